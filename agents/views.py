"""Experts pages: the catalog with search, an expert's profile and this tenant's use of
it; tenant admins mark experts preferred or disabled (the preferences ranking reads) and,
on plans with `custom_agents`, create, edit and delete the organisation's private experts."""

from __future__ import annotations

from functools import wraps

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from agents.domains import DOMAINS
from agents.forms import CustomAgentForm
from agents.selectors import agent_get, agent_list
from agents.tenant.models import AgentPreferences, CustomAgent
from agents.tenant.selectors import (
    agent_usage_get,
    custom_agent_get,
    custom_agent_list,
    preferences_get,
)
from agents.tenant.services import (
    custom_agent_create,
    custom_agent_delete,
    custom_agent_update,
    custom_agents_allowed,
    preference_mark_set,
)
from config.errors import DomainError, Forbidden
from tenants.roles import is_tenant_admin

EXPERTS_PER_PAGE = 24
MARKS = {"preferred": "Preferred", "none": "No mark", "disabled": "Disabled"}


class CatalogFilter(forms.Form):
    q = forms.CharField(label="Search experts", max_length=200, required=False)
    domain = forms.ChoiceField(label="Domain", required=False, choices=[("", "All domains"), *DOMAINS.items()])
    tier = forms.TypedChoiceField(label="Tier", required=False, coerce=int, empty_value=None,
                                  choices=[("", "All tiers"), (1, "Tier 1"), (2, "Tier 2"), (3, "Tier 3")])


def _mark(preferences: AgentPreferences, slug: str) -> str:
    if slug in preferences.disabled:
        return "disabled"
    return "preferred" if slug in preferences.preferred_slugs else "none"


@login_required
@require_GET
def expert_list_view(request):
    """The organisation's private experts first (plans with `custom_agents`), then the catalog."""
    form = CatalogFilter(request.GET)
    filters = form.cleaned_data if form.is_valid() else {}
    agents = agent_list(domain=filters.get("domain") or None, tier=filters.get("tier"),
                        query=filters.get("q") or None)
    page = Paginator(agents, EXPERTS_PER_PAGE).get_page(request.GET.get("page"))
    preferences = preferences_get()
    query = request.GET.copy()
    query.pop("page", None)
    private, private_refusal = None, None
    try:
        custom_agents_allowed(request.tenant)
        mine = custom_agent_list(domain=filters.get("domain") or None, tier=filters.get("tier"),
                                 query=filters.get("q") or None)
        private = [(agent, _mark(preferences, agent.slug)) for agent in mine]
    except Forbidden as refusal:
        private_refusal = refusal.message
    return render(request, "agents/expert_list.html", {
        "form": form, "page": page, "filter_query": query.urlencode(),
        "filtered": any(filters.get(name) for name in ("q", "domain", "tier")),
        "experts": [(agent, _mark(preferences, agent.slug)) for agent in page], "marks": MARKS,
        "private_experts": private, "private_refusal": private_refusal,
        "private_count": CustomAgent.objects.count() if private is not None else 0,
        "private_limit": request.tenant.configuration.limits.max_custom_agents,
    })


@login_required
@require_http_methods(["GET", "POST"])
def expert_detail_view(request, slug: str):
    """An expert's profile and this tenant's use of it: a catalog expert or, on plans with
    `custom_agents`, one of the organisation's private experts. A POST (tenant admins) sets its mark."""
    agent = agent_get(slug=slug)
    if agent is None and request.tenant.configuration.features.custom_agents:
        agent = custom_agent_get(slug=slug)
    if agent is None:
        raise Http404(f"There is no expert {slug!r} in the catalog.")
    preferences = preferences_get()
    error, status = None, 200
    if request.method == "POST":
        try:
            preference_mark_set(user=request.user, agent=agent, mark=request.POST.get("mark", ""))
            return redirect("expert-detail", slug=agent.slug)
        except DomainError as exc:
            error, status = exc.message, exc.status_code
    # a private expert keeps its own use and ratings; AgentUsage is for catalog experts
    usage = (agent if agent.use_count else None) if agent.private else agent_usage_get(agent=agent)
    return render(request, "agents/expert_detail.html", {
        "agent": agent, "mark": _mark(preferences, agent.slug), "marks": MARKS, "error": error, "usage": usage,
    }, status=status)


# --- private experts (tenant admins, plans with `custom_agents`) -------------------------

def private_expert_page(view):
    """Signed-in tenant admins on a plan with private experts: a plan without them gets the
    refusal page with the reason, a member a 403 page."""

    @login_required
    @wraps(view)
    def page(request, *args, **kwargs):
        try:
            custom_agents_allowed(request.tenant)
        except Forbidden as refusal:
            return render(request, "agents/private_expert_refused.html",
                          {"status": refusal.status_code, "message": refusal.message}, status=refusal.status_code)
        if not is_tenant_admin(request.user):
            raise PermissionDenied("Only a tenant admin can create, change or delete private experts; "
                                   "ask one of your organisation's admins.")
        return view(request, *args, **kwargs)

    return page


def _private_expert_or_404(slug: str) -> CustomAgent:
    agent = custom_agent_get(slug=slug)
    if agent is None:
        raise Http404(f"Your organisation has no private expert {slug!r}.")
    return agent


def _render_form(request, form: CustomAgentForm, agent: CustomAgent | None = None, status: int = 200):
    return render(request, "agents/private_expert_form.html", {"form": form, "agent": agent}, status=status)


@private_expert_page
@require_http_methods(["GET", "POST"])
def private_expert_create_view(request):
    form = CustomAgentForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            agent = custom_agent_create(user=request.user, data=form.service_data())
            messages.success(request, f"Created the private expert {agent.name}.")
            return redirect("expert-detail", slug=agent.slug)
        except DomainError as refusal:
            form.add_refusal(refusal)
            return _render_form(request, form, status=refusal.status_code)
    return _render_form(request, form)


@private_expert_page
@require_http_methods(["GET", "POST"])
def private_expert_edit_view(request, slug: str):
    """Replace a private expert's profile (its slug stays)."""
    agent = _private_expert_or_404(slug)
    form = CustomAgentForm.for_agent(agent, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            custom_agent_update(user=request.user, agent=agent, data=form.service_data())
            messages.success(request, f"Saved {agent.name}.")
            return redirect("expert-detail", slug=agent.slug)
        except DomainError as refusal:
            form.add_refusal(refusal)
            return _render_form(request, form, agent, status=refusal.status_code)
    return _render_form(request, form, agent)


@private_expert_page
@require_http_methods(["GET", "POST"])
def private_expert_delete_view(request, slug: str):
    """GET asks for confirmation; POST deletes."""
    agent = _private_expert_or_404(slug)
    error, status = None, 200
    if request.method == "POST":
        try:
            custom_agent_delete(user=request.user, agent=agent)
            messages.success(request, f"Deleted the private expert {agent.name}.")
            return redirect("expert-list")
        except DomainError as refusal:
            error, status = refusal.message, refusal.status_code
    return render(request, "agents/private_expert_delete.html", {"agent": agent, "error": error}, status=status)
