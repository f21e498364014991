"""Saved replies and saved views, managed in the app by the community managers: list, create,
edit, reorder, share and delete. A form that fails comes back with everything typed and the
error beside its field."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from responses.forms import SavedReplyForm, SavedViewForm
from responses.models import SavedReply, SavedView
from responses.replies import SAVED_REPLY_VARIABLES
from responses.selectors import saved_replies_for_user, saved_views_for_user
from responses.services import (
    saved_reply_delete,
    saved_reply_save,
    saved_view_delete,
    saved_view_move,
    saved_view_update,
)


# --- Saved views ----------------------------------------------------------------------------------
def _view_list(
    request: HttpRequest, failed: SavedView | None = None, form: SavedViewForm | None = None
) -> HttpResponse:
    views = list(saved_views_for_user(request.user))
    own = [view for view in views if view.user_id == request.user.pk]
    for view in own:
        view.form = (
            form
            if failed is not None and view.pk == failed.pk
            else SavedViewForm(initial={"name": view.name, "shared": view.shared}, prefix=f"view-{view.pk}")
        )
    context = {"own": own, "shared": [view for view in views if view.user_id != request.user.pk]}
    return render(request, "responses/saved_view_list.html", context, status=400 if failed else 200)


@permission_required("listening.work_inbox", raise_exception=True)
def saved_view_list(request: HttpRequest) -> HttpResponse:
    """The user's views in their order, to rename, share, move or delete; and the team's shared ones."""
    return _view_list(request)


def _own_view(request: HttpRequest, pk: int) -> SavedView:
    # A colleague's view, shared or not, is theirs to change: it is not found here.
    return get_object_or_404(SavedView, pk=pk, user=request.user)


@require_POST
@permission_required("listening.work_inbox", raise_exception=True)
def saved_view_edit(request: HttpRequest, pk: int) -> HttpResponse:
    view = _own_view(request, pk)
    form = SavedViewForm(request.POST, prefix=f"view-{view.pk}")
    if form.is_valid():
        try:
            saved_view_update(view=view, name=form.cleaned_data["name"], shared=form.cleaned_data["shared"])
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                for message in errors:
                    form.add_error(field, message)
        else:
            messages.success(request, _("View “%(name)s” saved.") % {"name": view.name})
            return redirect("responses:saved_view_list")
    return _view_list(request, failed=view, form=form)


@require_POST
@permission_required("listening.work_inbox", raise_exception=True)
def saved_view_move_view(request: HttpRequest, pk: int) -> HttpResponse:
    saved_view_move(view=_own_view(request, pk), direction=request.POST.get("direction", ""))
    return redirect("responses:saved_view_list")


@require_POST
@permission_required("listening.work_inbox", raise_exception=True)
def saved_view_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    view = _own_view(request, pk)
    name = view.name
    saved_view_delete(view=view)
    messages.success(request, _("View “%(name)s” deleted.") % {"name": name})
    return redirect("responses:saved_view_list")


# --- Saved replies --------------------------------------------------------------------------------
@permission_required("responses.view_savedreply", raise_exception=True)
def saved_reply_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "responses/saved_reply_list.html",
        {"saved_replies": saved_replies_for_user(request.user), "variables": SAVED_REPLY_VARIABLES},
    )


def _edit(request: HttpRequest, saved_reply: SavedReply) -> HttpResponse:
    form = SavedReplyForm(request.POST or None, instance=saved_reply, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            saved = saved_reply_save(saved_reply=form.save(commit=False), created_by=request.user)
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                for message in errors:
                    form.add_error(field, message)
        else:
            messages.success(request, _("Saved reply /%(shortcut)s saved.") % {"shortcut": saved.shortcut})
            return redirect("responses:saved_reply_list")
    return render(
        request,
        "responses/saved_reply_edit.html",
        {"form": form, "saved_reply": saved_reply, "variables": SAVED_REPLY_VARIABLES},
        status=400 if form.errors else 200,
    )


@permission_required("responses.add_savedreply", raise_exception=True)
def saved_reply_create(request: HttpRequest) -> HttpResponse:
    return _edit(request, SavedReply())


@permission_required("responses.change_savedreply", raise_exception=True)
def saved_reply_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _edit(request, get_object_or_404(saved_replies_for_user(request.user), pk=pk))


@require_POST
@permission_required("responses.delete_savedreply", raise_exception=True)
def saved_reply_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    saved_reply = get_object_or_404(saved_replies_for_user(request.user), pk=pk)
    shortcut = saved_reply.shortcut
    saved_reply_delete(saved_reply=saved_reply)
    messages.success(request, _("Saved reply /%(shortcut)s deleted.") % {"shortcut": shortcut})
    return redirect("responses:saved_reply_list")
