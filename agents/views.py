"""Experts pages: the catalog with search, an expert's profile and this tenant's use of
it; tenant admins mark experts preferred or disabled (the preferences ranking reads)."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from agents.domains import DOMAINS
from agents.selectors import agent_get, agent_list
from agents.tenant.models import AgentPreferences
from agents.tenant.selectors import agent_usage_get, preferences_get
from agents.tenant.services import preference_mark_set
from config.errors import DomainError

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
    form = CatalogFilter(request.GET)
    filters = form.cleaned_data if form.is_valid() else {}
    agents = agent_list(domain=filters.get("domain") or None, tier=filters.get("tier"),
                        query=filters.get("q") or None)
    page = Paginator(agents, EXPERTS_PER_PAGE).get_page(request.GET.get("page"))
    preferences = preferences_get()
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "agents/expert_list.html", {
        "form": form, "page": page, "filter_query": query.urlencode(),
        "experts": [(agent, _mark(preferences, agent.slug)) for agent in page], "marks": MARKS,
    })


@login_required
@require_http_methods(["GET", "POST"])
def expert_detail_view(request, slug: str):
    """An expert's profile and this tenant's use of it. A POST (tenant admins) sets its mark."""
    agent = agent_get(slug=slug)
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
    return render(request, "agents/expert_detail.html", {
        "agent": agent, "mark": _mark(preferences, agent.slug), "marks": MARKS, "error": error,
        "usage": agent_usage_get(agent=agent),
    }, status=status)
