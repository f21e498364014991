"""factory_boy factories for every model the tests build."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.utils import timezone

from listening.models import Author, Brand, BrandMembership, Channel, Mention, Platform, TrackedTerm
from responses.models import Department, Reply, RoutingRule, SavedReply, Ticket


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("pass-word-1234")

    @factory.post_generation
    def roles(self, create: bool, extracted: list[str] | None, **kwargs: object) -> None:
        if create and extracted:
            self.groups.add(*role_groups(extracted))


def role_groups(names: list[str]) -> list[Group]:
    """The role groups ``names``, with their permissions, made again as the data migrations make
    them when they are missing: a test on a real commit (a live server, ``transaction=True``) empties
    every table after it, the migrations' groups with it, and the next test's users would have no
    role at all (Django makes permissions again on its own, never groups)."""
    from config.roles import ADMIN, ROLE_PERMISSIONS

    groups = {group.name: group for group in Group.objects.filter(name__in=names)}
    for name in set(names) - set(groups):
        group = groups[name] = Group.objects.create(name=name)  # ADMIN: every permission by is_superuser
        for dotted in ROLE_PERMISSIONS.get(name, []) if name != ADMIN else []:
            app_label, codename = dotted.split(".")
            group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return [groups[name] for name in names]


class BrandFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Brand
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Brand {n}")
    slug = factory.Sequence(lambda n: f"brand-{n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BrandMembership

    brand = factory.SubFactory(BrandFactory)
    user = factory.SubFactory(UserFactory)


class TrackedTermFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TrackedTerm

    brand = factory.SubFactory(BrandFactory)
    kind = TrackedTerm.Kind.BRAND
    text = factory.Sequence(lambda n: f"term{n}")


class ChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Channel

    brand = factory.SubFactory(BrandFactory)
    platform = Platform.X
    name = factory.Sequence(lambda n: f"Channel {n}")
    settings = factory.LazyFunction(dict)


class AuthorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Author

    platform = Platform.X
    external_id = factory.Sequence(lambda n: f"author-{n}")
    handle = factory.Sequence(lambda n: f"person{n}")
    name = factory.Faker("name")
    followers = 100


class MentionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Mention

    channel = factory.SubFactory(ChannelFactory)
    brand = factory.SelfAttribute("channel.brand")
    external_id = factory.Sequence(lambda n: f"m-{n}")
    author = factory.SubFactory(AuthorFactory, platform=factory.SelfAttribute("..channel.platform"))
    text = factory.Faker("sentence")
    language = "en"
    published_at = factory.LazyFunction(timezone.now)
    url = factory.LazyAttribute(lambda m: f"https://example.com/status/{m.external_id}")


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department

    brand = factory.SubFactory(BrandFactory)
    name = factory.Sequence(lambda n: f"Department {n}")
    email = factory.LazyAttribute(lambda d: f"dept{d.name.split()[-1]}@example.com")


class RoutingRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RoutingRule

    brand = factory.SubFactory(BrandFactory)
    name = factory.Sequence(lambda n: f"Rule {n}")
    position = factory.Sequence(lambda n: n)


class TicketFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Ticket

    mention = factory.SubFactory(MentionFactory)
    brand = factory.SelfAttribute("mention.brand")
    department = factory.SubFactory(DepartmentFactory, brand=factory.SelfAttribute("..brand"))
    subject = factory.Faker("sentence", nb_words=5)


class ReplyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Reply

    mention = factory.SubFactory(MentionFactory)
    text = factory.Faker("sentence")


class SavedReplyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SavedReply

    brand = factory.SubFactory(BrandFactory)
    shortcut = factory.Sequence(lambda n: f"reply{n}")
    title = factory.Faker("sentence", nb_words=3)
    body = "Hi {{ author.name }}, thanks for writing to {{ brand.name }}."
