from __future__ import annotations

from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from responses.selectors import rules_for_user, tickets_for_user


def ticket_list(request: HttpRequest) -> HttpResponse:
    tickets = tickets_for_user(request.user).select_related("department", "mention__author", "assignee")[:100]
    return render(request, "responses/ticket_list.html", {"tickets": tickets})


@permission_required("listening.configure_brand", raise_exception=True)
def rule_list(request: HttpRequest) -> HttpResponse:
    rules = rules_for_user(request.user).select_related("brand")
    return render(request, "responses/rule_list.html", {"rules": rules})
