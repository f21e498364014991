"""The publishing pages: the list of a brand's posts, the composer, and a post with its preview per
platform, its approval and its history. Server-rendered; each action is a plain form POST."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required, permission_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from config import params
from listening.connectors import connector_class
from listening.models import Brand
from listening.selectors import brand_for, brands_for_user
from publishing import competitors, feeds, selectors, services
from publishing.forms import PostForm, ScheduleForm
from publishing.ical import posts_ical
from publishing.models import CalendarFeed, CompetitorAccount, Post, PostTarget
from publishing.selectors import post_history, post_status, posts_for_user, posts_waiting_for

Status = PostTarget.Status


@permission_required("publishing.view_post", raise_exception=True)
def post_list(request: HttpRequest) -> HttpResponse:
    """A brand's posts, the ones waiting for this person's approval first."""
    brand = brand_for(request)
    state = request.GET.get("status", "")
    posts = posts_for_user(request.user).filter(brand=brand)
    if state in Status.values:
        posts = posts.filter(targets__status=state).distinct()
    posts = list(posts.order_by("-created_at", "-pk")[:100])
    for post in posts:
        post.state = post_status(post)
        post.state_label = Status(post.state).label
    context = {
        "brand": brand,
        "brands": brands_for_user(request.user).order_by("name"),
        "posts": posts,
        "waiting": posts_waiting_for(request.user, brand.pk),
        "statuses": Status.choices,
        "status": state,
    }
    return render(request, "publishing/post_list.html", context)


def _form_errors(form: PostForm, error: ValidationError) -> None:
    for message in error.messages:
        form.add_error(None, message)


@permission_required("publishing.add_post", raise_exception=True)
def post_create(request: HttpRequest) -> HttpResponse:
    brand = brand_for(request) if request.method == "GET" else _posted_brand(request)
    form = PostForm(request.POST or None, brand=brand)
    if request.method == "POST" and form.is_valid():
        try:
            post = services.post_create(
                brand=brand,
                author=request.user,
                **form.post_fields(),
            )
            if "submit" in request.POST:
                services.post_submit(post=post, user=request.user)
        except ValidationError as error:
            _form_errors(form, error)
        else:
            messages.success(request, _("Post saved."))
            return redirect("publishing:post_detail", pk=post.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "publishing/post_form.html", {"form": form, "brand": brand, "post": None}, status=status)


def _posted_brand(request: HttpRequest) -> Brand:
    return get_object_or_404(brands_for_user(request.user), pk=params.id_or_none(request.POST.get("brand", "")) or 0)


def _post(request: HttpRequest, pk: int) -> Post:
    return get_object_or_404(posts_for_user(request.user), pk=pk)


@permission_required("publishing.change_post", raise_exception=True)
def post_edit(request: HttpRequest, pk: int) -> HttpResponse:
    post = _post(request, pk)
    form = PostForm(request.POST or None, brand=post.brand, post=post)
    if request.method == "POST" and form.is_valid():
        try:
            services.post_update(
                post=post,
                user=request.user,
                **form.post_fields(),
            )
            if "submit" in request.POST:
                services.post_submit(post=post, user=request.user)
        except ValidationError as error:
            _form_errors(form, error)
        else:
            messages.success(request, _("Post saved."))
            return redirect("publishing:post_detail", pk=post.pk)
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "brand": post.brand, "post": post}
    return render(request, "publishing/post_form.html", context, status=status)


@permission_required("publishing.view_post", raise_exception=True)
def post_detail(request: HttpRequest, pk: int) -> HttpResponse:
    post = _post(request, pk)
    targets = list(post.targets.all())
    for target in targets:
        target.length, target.limit = services.post_length(channel=target.channel, text=target.text, link=post.link)
        # As the platform shows it: X carries the link in the text; a Page shows it as a preview.
        target.shown_text = connector_class(target.channel.platform).post_text(target.text, post.link)
    state = post_status(post)
    context = {
        "post": post,
        "targets": targets,
        "state": state,
        "state_label": Status(state).label,
        "history": post_history(post),
        "comments": selectors.post_comments(post) if request.user.has_perm("listening.work_inbox") else (0, []),
        "can_approve": state == Status.PENDING_APPROVAL
        and request.user.has_perm("publishing.approve_post")
        and post.author_id != request.user.pk,
        "can_edit": state == Status.DRAFT and request.user.has_perm("publishing.change_post"),
        "can_schedule": state in (Status.DRAFT, Status.PENDING_APPROVAL, Status.APPROVED, Status.SCHEDULED)
        and request.user.has_perm("publishing.change_post"),
        "schedule_form": ScheduleForm(
            brand=post.brand,
            initial={"publish_at": timezone.localtime(post.scheduled_at, post.zone).replace(tzinfo=None)}
            if post.scheduled_at
            else None,
        ),
    }
    return render(request, "publishing/post_detail.html", context)


def _act(request: HttpRequest, pk: int, action: Callable[[Post], object], done: str) -> HttpResponse:
    post = _post(request, pk)
    try:
        action(post)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, done)
    return redirect("publishing:post_detail", pk=post.pk)


@require_POST
@permission_required("publishing.change_post", raise_exception=True)
def post_submit(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, lambda post: services.post_submit(post=post, user=request.user), _("Post sent on."))


@require_POST
@permission_required("publishing.approve_post", raise_exception=True)
def post_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """Approve, ask for changes or reject, with a comment (required to ask for changes)."""
    _post(request, pk)  # another brand's post is not found, whatever the decision says
    comment = request.POST.get("comment", "")
    decision = request.POST.get("decision", "")
    actions = {
        "approve": (lambda post: services.post_approve(post=post, user=request.user, comment=comment), _("Approved.")),
        "changes": (
            lambda post: services.post_request_changes(post=post, user=request.user, comment=comment),
            _("Sent back to its author with your comment."),
        ),
        "reject": (lambda post: services.post_reject(post=post, user=request.user, comment=comment), _("Rejected.")),
    }
    if decision not in actions:
        messages.error(request, _("Choose approve, ask for changes or reject."))
        return redirect("publishing:post_detail", pk=pk)
    action, done = actions[decision]
    return _act(request, pk, action, done)


@require_POST
@permission_required("publishing.change_post", raise_exception=True)
def post_schedule(request: HttpRequest, pk: int) -> HttpResponse:
    post = _post(request, pk)
    form = ScheduleForm(request.POST, brand=post.brand)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect("publishing:post_detail", pk=post.pk)
    at = form.cleaned_data["publish_at"]
    return _act(request, pk, lambda p: services.post_schedule(post=p, user=request.user, at=at), _("Scheduled."))


@require_POST
@permission_required("publishing.change_post", raise_exception=True)
def post_move(request: HttpRequest, pk: int) -> HttpResponse:
    """The calendar's drag and drop: the post to another day (``date``, YYYY-MM-DD) and, from the
    week view, another hour (``time``, HH:MM), in the brand's time zone; without a time it keeps
    its own. Through ``post_schedule``, like the post's own form: the same checks, the same line of
    history, and a post waiting for approval still waits. Back to the calendar it came from."""
    post = _post(request, pk)
    zone = post.zone
    try:
        day = params.parse_day(request.POST.get("date", ""))
        clock = request.POST.get("time", "").strip()
        if clock:
            try:
                moment = datetime.strptime(clock, "%H:%M").time()
            except ValueError as error:
                raise params.BadParam(_("Times are written HH:MM.")) from error
        else:
            moment = timezone.localtime(post.scheduled_at, zone).time() if post.scheduled_at else time(9)
    except params.BadParam as error:
        messages.error(request, str(error))
    else:
        at = datetime.combine(day, moment.replace(second=0, microsecond=0), zone)
        try:
            services.post_schedule(post=post, user=request.user, at=at)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                _("Moved to %(when)s.")
                % {"when": formats.date_format(at.replace(tzinfo=None), "SHORT_DATETIME_FORMAT")},
            )
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=False):
        back = f"{reverse('publishing:post_calendar')}?brand={post.brand_id}"
    return redirect(back)


@require_POST
@permission_required("publishing.change_post", raise_exception=True)
def target_retry(request: HttpRequest, pk: int) -> HttpResponse:
    target = get_object_or_404(
        PostTarget.objects.select_related("post__brand").filter(Q(post__in=posts_for_user(request.user))), pk=pk
    )
    try:
        services.post_retry(target=target, user=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Publishing again."))
    return redirect("publishing:post_detail", pk=target.post_id)


@permission_required("publishing.view_post", raise_exception=True)
def post_calendar(request: HttpRequest) -> HttpResponse:
    """Month or week of the brand's posts (an agenda list on phones), in the brand's time zone."""
    brand = brand_for(request)
    view = "week" if request.GET.get("view") == "week" else "month"
    try:
        around = params.parse_day(request.GET["date"]) if request.GET.get("date") else None
    except params.BadParam as error:
        messages.error(request, str(error))
        around = None
    around = around or timezone.localtime(timezone.now(), ZoneInfo(brand.time_zone)).date()
    calendar = selectors.post_calendar(user=request.user, brand=brand, view=view, around=around)
    context = {
        "brand": brand,
        "brands": brands_for_user(request.user).order_by("name"),
        "calendar": calendar,
        # The day asked for (or today): switching between month and week keeps to it.
        "around": around,
        "today": timezone.localtime(timezone.now(), ZoneInfo(brand.time_zone)).date(),
        "agenda": [day for day in calendar.days if day.posts and day.in_period],
        "can_move": request.user.has_perm("publishing.change_post"),
        "subscription": CalendarFeed.objects.filter(user=request.user).first(),
    }
    return render(request, "publishing/calendar.html", context)


@require_POST
@permission_required("publishing.view_post", raise_exception=True)
def calendar_subscription(request: HttpRequest) -> HttpResponse:
    """Make (or reset) the person's private subscription address, shown once here; or revoke it."""
    back = f"{reverse('publishing:post_calendar')}?brand={params.id_or_none(request.POST.get('brand', '')) or ''}"
    if request.POST.get("action") == "revoke":
        if feeds.calendar_feed_revoke(user=request.user):
            messages.success(request, _("The subscription address no longer works."))
        return redirect(back + "#subscription")
    token = feeds.calendar_feed_create(user=request.user)
    address = request.build_absolute_uri(reverse("publishing:calendar_feed", args=[token]))
    return render(request, "publishing/calendar_subscription.html", {"address": address, "back": back})


@login_not_required
@require_GET
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The private subscription: the posts of every brand the address's owner may see, from 90 days
    back, read-only. No session: the secret address is the credential, so any other is a 404."""
    user = feeds.calendar_feed_user(token)
    if user is None:
        raise Http404
    since = timezone.now() - timedelta(days=90)
    posts = posts_for_user(user).filter(scheduled_at__gte=since).order_by("scheduled_at", "pk")[:2000]
    body = posts_ical(posts, site_url=settings.SITE_URL, name=_("Escucha posts"))
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, max-age=300"
    response["Referrer-Policy"] = "no-referrer"
    return response


@permission_required("listening.configure_brand", raise_exception=True)
def competitor_accounts(request: HttpRequest) -> HttpResponse:
    """The competitors' public accounts read for the report: one list per competitor group, with
    when each was last read and its error; add one, or stop reading it."""
    brand = brand_for(request) if request.method == "GET" else _posted_brand(request)
    if request.method == "POST":
        if request.POST.get("action") == "remove":
            removed = CompetitorAccount.objects.filter(
                brand=brand, pk=params.id_or_none(request.POST.get("account", "")) or 0
            ).delete()[0]
            if removed:
                messages.success(request, _("No longer read."))
        else:
            try:
                competitors.competitor_account_add(
                    brand=brand,
                    competitor=request.POST.get("competitor", ""),
                    platform=request.POST.get("platform", ""),
                    handle=request.POST.get("handle", ""),
                )
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            else:
                messages.success(request, _("Added: it is read within the next 15 minutes."))
        return redirect(f"{reverse('publishing:competitor_accounts')}?brand={brand.pk}")
    accounts = list(CompetitorAccount.objects.filter(brand=brand).order_by("competitor", "platform", "handle"))
    groups = competitors.competitor_groups(brand)
    context = {
        "brand": brand,
        "brands": brands_for_user(request.user).order_by("name"),
        "groups": [(name, [a for a in accounts if a.competitor == name]) for name in groups],
        "orphans": [a for a in accounts if a.competitor not in groups],
        "platforms": CompetitorAccount.Platform.choices,
    }
    return render(request, "publishing/competitors.html", context)


@permission_required("publishing.view_post", raise_exception=True)
def post_calendar_ical(request: HttpRequest) -> HttpResponse:
    """The brand's timed posts as an iCalendar file, from 90 days back."""
    brand = brand_for(request)
    since = timezone.now() - timedelta(days=90)
    posts = (
        posts_for_user(request.user).filter(brand=brand, scheduled_at__gte=since).order_by("scheduled_at", "pk")[:2000]
    )
    body = posts_ical(posts, site_url=settings.SITE_URL, name=_("Posts of %(brand)s") % {"brand": brand.name})
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{brand.slug}-posts.ics"'
    return response
