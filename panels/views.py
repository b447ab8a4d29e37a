"""The panel pages: dashboard, ask, live panel, history, and the fragments they fetch.
Thin: each calls the selectors and services the API calls; a service's refusal is shown
on the form."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.views.decorators.http import require_GET, require_POST

from agents.selectors import agent_list
from agents.tenant.selectors import custom_agent_list
from config.errors import DomainError, NotFound
from panels.forms import HistoryFilterForm, HumanInputForm, PanelAskForm, RateForm
from panels.lifecycle import Status
from panels.selectors import (
    documents_groundable,
    experts_recommend,
    panel_contribution_get,
    panel_detail,
    panel_estimate,
    panel_get,
    panel_history,
    panel_last_event_seq,
    panel_progress,
    panel_rating_get,
    panel_types_offered,
    panels_recent,
    usage_this_month,
)
from panels.services import (
    QUERY_MAX,
    QUERY_MIN,
    panel_cancel,
    panel_create,
    panel_human_input,
    panel_rate,
)
from panels.template_selectors import template_list
from panels.types import REGISTRY

HISTORY_PAGE_SIZE = 25
RECOMMENDED = 6
CATALOG_RESULTS = 12


def report_template() -> str | None:
    """W2b's report section, once it exists (the page shows the transcript until then)."""
    try:
        get_template("panels/_report.html")
    except TemplateDoesNotExist:
        return None
    return "panels/_report.html"


def tenant_page(view):
    """Signed-in users on a tenant's host only (the platform host has no such pages), and a
    panel the user may not see is a 404, as in the API."""

    @login_required
    @wraps(view)
    def page(request, *args, **kwargs):
        tenant = getattr(request, "tenant", None)
        if tenant is None or tenant.is_public:
            raise Http404("There is no such page here.")
        try:
            return view(request, *args, **kwargs)
        except NotFound as error:
            raise Http404(error.message) from None

    return page


# --- dashboard -----------------------------------------------------------------------

@tenant_page
@require_GET
def dashboard(request):
    return render(request, "panels/dashboard.html", {
        "recent": panels_recent(user=request.user),
        "usage": usage_this_month(tenant=request.tenant),
        "configuration": request.tenant.configuration,
        "query_min": QUERY_MIN, "query_max": QUERY_MAX,
    })


# --- ask -----------------------------------------------------------------------------

@tenant_page
def panel_ask(request):
    documents = documents_groundable()
    if request.method == "POST":
        form = PanelAskForm(request.POST, documents=documents)
        if form.is_valid():
            data = form.cleaned_data
            try:
                panel = panel_create(user=request.user, query=data["query"], panel_type=data["panel_type"],
                                     experts=data["experts"] or None, max_rounds=data["max_rounds"],
                                     documents=data["documents"] or None)
            except DomainError as error:
                form.add_domain_error(error)
            else:
                return redirect("panel-page", panel_id=panel.pk)
        return _ask_page(request, form, chosen=_chosen(form.data.getlist("experts")), status=400)
    initial = {"panel_type": request.tenant.configuration.panel_defaults.panel_type,
               "query": request.GET.get("q", "")[:QUERY_MAX]}
    chosen = []
    if request.GET.get("from", "").isdigit():
        previous = panel_detail(user=request.user, panel_id=int(request.GET["from"]))
        initial.update(query=previous.query, panel_type=previous.panel_type)
        chosen = [m.expert for m in previous.members.all() if m.expert is not None]
    from_template = None
    if request.GET.get("template", "").isdigit():  # a saved template's configuration
        from panels.views_templates import (
            ask_initial_from_template,  # here: that module imports tenant_page
        )

        initial, slugs, from_template = ask_initial_from_template(
            user=request.user, template_id=int(request.GET["template"]), initial=initial)
        chosen = _chosen(slugs)
    return _ask_page(request, PanelAskForm(initial=initial, documents=documents), chosen=chosen,
                     from_template=from_template)


def _chosen(slugs):
    """The experts named by slug, in that order: catalog agents, and the tenant's private ones."""
    found = {agent.slug: agent for agent in agent_list().filter(slug__in=slugs)}
    found.update((agent.slug, agent) for agent in custom_agent_list() if agent.slug in set(slugs))
    return [found[slug] for slug in dict.fromkeys(slugs) if slug in found]


def _ask_page(request, form, *, chosen, status=200, from_template=None):
    selected = form["panel_type"].value()
    return render(request, "panels/ask.html", {
        "templates": template_list(user=request.user), "from_template": from_template,
        "form": form, "types": panel_types_offered(tenant=request.tenant), "selected_type": selected,
        "chosen": chosen, "query_min": QUERY_MIN, "query_max": QUERY_MAX,
        "estimate": panel_estimate(tenant=request.tenant, query=form["query"].value() or "",
                                   panel_type=selected if selected in REGISTRY else "structured",
                                   experts=len(chosen) or None),
    }, status=status)


@tenant_page
@require_GET
def ask_recommend(request):
    """Fragment: experts recommended for the question typed so far."""
    question = request.GET.get("query", "").strip()[:QUERY_MAX]
    panel_type = request.GET.get("panel_type")
    ranked = []
    if len(question) >= QUERY_MIN:
        kind = REGISTRY.get(panel_type)
        ranked = experts_recommend(question=question, k=RECOMMENDED, minimum=kind.min_experts if kind else 3,
                                   panel_type=kind.name if kind else None)
    return render(request, "panels/_recommended.html", {"ranked": ranked, "question": question,
                                                        "query_min": QUERY_MIN})


@tenant_page
@require_GET
def ask_catalog(request):
    """Fragment: catalog search to add an expert by hand."""
    words = request.GET.get("expert_search", "").strip()[:100]
    agents = list(agent_list(query=words).order_by("tier", "name")[:CATALOG_RESULTS]) if len(words) >= 2 else []
    return render(request, "panels/_catalog_results.html", {"agents": agents, "words": words})


@tenant_page
@require_GET
def ask_estimate(request):
    """Fragment: the estimate for the form as it stands."""
    panel_type = request.GET.get("panel_type")
    rounds = request.GET.get("max_rounds", "")
    estimate = panel_estimate(
        tenant=request.tenant, query=request.GET.get("query", "")[:QUERY_MAX],
        panel_type=panel_type if panel_type in REGISTRY else "structured",
        experts=len(request.GET.getlist("experts")) or None, max_rounds=int(rounds) if rounds.isdigit() else None,
    )
    return render(request, "panels/_estimate.html", {"estimate": estimate})


# --- the live panel ------------------------------------------------------------------

@tenant_page
@require_GET
def panel_page(request, panel_id):
    return _panel_page(request, panel_id)


def _panel_page(request, panel_id, *, status=200, **extra):
    # The last event is read before the transcript: an event that lands in between is
    # replayed by the stream, and the page keys cards by contribution id (no double).
    last_seq = panel_last_event_seq(panel=panel_get(user=request.user, panel_id=panel_id))
    panel = panel_detail(user=request.user, panel_id=panel_id)
    context = {
        "panel": panel, "last_seq": last_seq, "progress": panel_progress(panel=panel),
        "type": REGISTRY.get(panel.panel_type), "human_form": HumanInputForm(), "rate_form": RateForm(),
        "user_rating": panel_rating_get(panel=panel, user=request.user), "report_template": report_template(),
    }
    context.update(extra)
    return render(request, "panels/panel.html", context, status=status)


@tenant_page
@require_POST
def panel_page_cancel(request, panel_id):
    try:
        panel_cancel(panel=panel_get(user=request.user, panel_id=panel_id), user=request.user)
    except DomainError as error:
        return _panel_page(request, panel_id, status=error.status_code, cancel_error=error.message)
    return redirect("panel-page", panel_id=panel_id)


@tenant_page
@require_POST
def panel_page_human_input(request, panel_id):
    form = HumanInputForm(request.POST)
    panel = panel_get(user=request.user, panel_id=panel_id)
    if form.is_valid():
        try:
            panel_human_input(panel=panel, **form.cleaned_data)
        except DomainError as error:
            if panel.status != Status.AWAITING_INPUT:  # no form on the page to show it on
                return _panel_page(request, panel_id, status=error.status_code, page_error=error.message)
            field = error.details.get("field")
            form.add_error(field if field in form.fields else None, error.message)
        else:
            return redirect("panel-page", panel_id=panel_id)
    return _panel_page(request, panel_id, status=400, human_form=form)


@tenant_page
@require_POST
def panel_rate_view(request, panel_id):
    form = RateForm(request.POST)
    panel = panel_get(user=request.user, panel_id=panel_id)
    if form.is_valid():
        try:
            panel_rate(panel=panel, user=request.user, **form.cleaned_data)
        except DomainError as error:
            # Shown at the top: the rating form is on a completed, unrated panel's report only.
            return _panel_page(request, panel_id, status=error.status_code, page_error=error.message)
        return redirect("panel-page", panel_id=panel_id)
    shown_on_report = panel.status == Status.COMPLETED and report_template()
    return _panel_page(request, panel_id, status=400, rate_form=form,
                       page_error="" if shown_on_report else "; ".join(e for errs in form.errors.values() for e in errs))


@tenant_page
@require_GET
def panel_card(request, panel_id, contribution_id):
    """Fragment: one contribution's card, fetched by the live page when its event arrives."""
    contribution = panel_contribution_get(user=request.user, panel_id=panel_id, contribution_id=contribution_id)
    return render(request, "panels/_contribution.html", {"contribution": contribution, "live": True})


@tenant_page
@require_GET
def panel_status(request, panel_id):
    """Fragment: status, progress and the cancel control."""
    panel = panel_get(user=request.user, panel_id=panel_id)
    return render(request, "panels/_status.html", {"panel": panel, "progress": panel_progress(panel=panel)})


@tenant_page
@require_GET
def panel_human_block(request, panel_id):
    """Fragment: the human-input form while a hybrid panel awaits input (else nothing)."""
    panel = panel_get(user=request.user, panel_id=panel_id)
    return render(request, "panels/_human_input.html", {"panel": panel, "human_form": HumanInputForm()})


@tenant_page
@require_GET
def panel_outcome(request, panel_id):
    """Fragment: what a final panel ends with (the report, or why it failed)."""
    panel = panel_detail(user=request.user, panel_id=panel_id)
    return render(request, "panels/_outcome.html", {
        "panel": panel, "rate_form": RateForm(), "user_rating": panel_rating_get(panel=panel, user=request.user),
        "report_template": report_template(),
    })


# --- history -------------------------------------------------------------------------

@tenant_page
@require_GET
def panel_history_page(request):
    filters = HistoryFilterForm(request.GET)
    panels = panel_history(user=request.user)
    if filters.is_valid():
        data = filters.cleaned_data
        panels = panel_history(user=request.user, status=data["status"] or None,
                               panel_type=data["panel_type"] or None, search=data["q"] or None,
                               created_from=data["created_from"], created_to=data["created_to"])
    page = Paginator(panels, HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "panels/history.html", {
        "filters": filters, "page": page, "query_string": query.urlencode(), "Status": Status,
    })
