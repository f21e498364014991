"""REST API v1 for responses: departments."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from rest_framework import mixins, serializers, viewsets
from rest_framework.routers import BaseRouter

from listening.api import RolePermission, read_write
from listening.models import Brand
from listening.selectors import brands_for_user
from responses.models import Department, SlaPolicy


class SlaPolicySerializer(serializers.ModelSerializer):
    class Meta:
        model = SlaPolicy
        fields = ["priority", "acknowledge_minutes", "resolve_minutes"]


class DepartmentSerializer(serializers.ModelSerializer):
    brand = serializers.PrimaryKeyRelatedField(queryset=Brand.objects.none())
    members = serializers.PrimaryKeyRelatedField(many=True, required=False, queryset=get_user_model().objects.all())
    sla_policies = SlaPolicySerializer(many=True, read_only=True)

    class Meta:
        model = Department
        fields = ["id", "brand", "name", "email", "members", "sla_policies", "created_at"]
        read_only_fields = ["id", "created_at"]
        validators: list[Any] = []  # the (brand, name) check below gives a field error instead

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["brand"].queryset = brands_for_user(request.user)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        brand = attrs.get("brand") or getattr(self.instance, "brand", None)
        name = attrs.get("name") or getattr(self.instance, "name", "")
        duplicate = Department.objects.filter(brand=brand, name__iexact=name)
        if self.instance is not None:
            duplicate = duplicate.exclude(pk=self.instance.pk)
        if duplicate.exists():
            raise serializers.ValidationError({"name": [_("This brand already has a department with this name.")]})
        outsiders = [
            user.pk for user in attrs.get("members", []) if not user.brand_memberships.filter(brand=brand).exists()
        ]
        if outsiders:
            raise serializers.ValidationError({"members": [_("Only members of the brand can join its departments.")]})
        return attrs


class DepartmentViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The departments of the user's brands, with their members and SLA policies."""

    serializer_class = DepartmentSerializer
    permission_classes = [RolePermission]
    permission_for = read_write("responses.view_department", "responses.change_department", "responses.add_department")
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Department]:
        return (
            Department.objects.filter(brand__in=brands_for_user(self.request.user))
            .prefetch_related("members", "sla_policies")
            .order_by("brand__name", "name")
        )


def register(router: BaseRouter) -> None:
    """Add this app's viewsets to /api/v1/."""
    router.register("departments", DepartmentViewSet, basename="department")
