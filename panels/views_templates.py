"""The saved panel template pages: the list (favourites first), editing, deleting,
favourites, and "Save as template" on a panel's report. Thin like the API: the rules are
panels.template_services', whose refusals are shown on the field they name. The Ask page
(panels.views.panel_ask) prefills its form from `?template=<id>` with
`ask_initial_from_template`."""

from django import forms
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from config.errors import DomainError
from panels.selectors import documents_groundable, panel_detail
from panels.services import QUERY_MAX
from panels.template_selectors import (
    UNAVAILABLE_REASONS, template_availability, template_can_edit, template_get, template_list, template_placeholders,
)
from panels.template_services import (
    DESCRIPTION_MAX, NAME_MAX, template_create_from_panel, template_delete, template_favourite_set, template_replace,
)
from panels.types import REGISTRY
from panels.views import tenant_page


class TemplateSaveForm(forms.Form):
    """What "Save as template" asks for; the rest comes from the panel."""

    name = forms.CharField(label="Template name", max_length=NAME_MAX)
    description = forms.CharField(label="Description", required=False, max_length=DESCRIPTION_MAX,
                                  widget=forms.Textarea(attrs={"rows": 2}))
    question_template = forms.CharField(
        label="Question template", required=False, max_length=QUERY_MAX, widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Optional. Write {placeholders} for what changes each time, e.g. {product}.")
    shared = forms.BooleanField(label="Share with the whole organisation", required=False)

    def add_domain_error(self, error: DomainError) -> None:
        field = error.details.get("field")
        self.add_error(field if field in self.fields else None, error.message)


class TemplateEditForm(TemplateSaveForm):
    panel_type = forms.ChoiceField(label="Panel type", choices=[(name, t.label) for name, t in REGISTRY.items()])
    experts = forms.CharField(label="Experts", required=False, widget=forms.Textarea(attrs={"rows": 3}),
                              help_text="Expert ids (slugs), one per line; none: ranking chooses.")
    max_rounds = forms.IntegerField(label="Rounds", required=False, min_value=1, max_value=10,
                                    help_text="Empty: the panel type's default.")
    documents = forms.TypedMultipleChoiceField(label="Documents to ground on", required=False, coerce=int,
                                               widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, documents=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["documents"].choices = [(d.pk, d.title) for d in documents]

    def clean_experts(self):
        return [slug for slug in self.cleaned_data["experts"].replace(",", "\n").split() if slug]


def _template_rows(user) -> list[dict]:
    return [{"template": template, "can_edit": template_can_edit(user=user, template=template),
             "placeholders": template_placeholders(template.question_template),
             "type": REGISTRY.get(template.panel_type)}
            for template in template_list(user=user)]


@tenant_page
@require_GET
def template_list_page(request):
    return render(request, "panels/templates.html", {"rows": _template_rows(request.user)})


@tenant_page
def template_edit_page(request, template_id):
    template = template_get(user=request.user, template_id=template_id)
    if not template_can_edit(user=request.user, template=template):
        return render(request, "panels/templates_form.html", {"template": template, "refused": (
            f"Only {template.owner.username} (who saved it) or a tenant admin can change this template.")}, status=403)
    documents = documents_groundable()
    status = 200
    if request.method == "POST":
        form = TemplateEditForm(request.POST, documents=documents)
        if form.is_valid():
            try:
                template_replace(user=request.user, template=template, data=form.cleaned_data)
            except DomainError as error:
                form.add_domain_error(error)
            else:
                return redirect("panel-templates")
        status = 400
    else:
        form = TemplateEditForm(documents=documents, initial={
            "name": template.name, "description": template.description, "panel_type": template.panel_type,
            "experts": "\n".join(template.experts), "max_rounds": template.max_rounds,
            "documents": template.documents, "question_template": template.question_template,
            "shared": template.shared})
    return render(request, "panels/templates_form.html", {"template": template, "form": form}, status=status)


@tenant_page
@require_POST
def template_delete_page(request, template_id):
    template = template_get(user=request.user, template_id=template_id)
    try:
        template_delete(user=request.user, template=template)
    except DomainError as error:
        return render(request, "panels/templates.html", {"rows": _template_rows(request.user),
                                                         "page_error": error.message}, status=error.status_code)
    return redirect("panel-templates")


@tenant_page
@require_POST
def template_favourite_page(request, template_id):
    template = template_get(user=request.user, template_id=template_id)
    template_favourite_set(user=request.user, template=template, favourite=request.POST.get("favourite") == "1")
    return redirect("panel-templates")


@tenant_page
@require_POST
def template_save_from_panel(request, panel_id):
    """"Save as template" on a panel's report."""
    panel = panel_detail(user=request.user, panel_id=panel_id)
    form = TemplateSaveForm(request.POST)
    if form.is_valid():
        try:
            template = template_create_from_panel(user=request.user, panel=panel, data=form.cleaned_data)
        except DomainError as error:
            form.add_domain_error(error)
        else:
            return redirect(f"{reverse('panel-templates')}?saved={template.pk}")
    return render(request, "panels/templates_form.html", {"panel": panel, "form": form}, status=400)


def ask_initial_from_template(*, user, template_id: int, initial: dict) -> tuple[dict, list[str], dict]:
    """The Ask form's initial values from a template, the expert slugs to show as chosen
    (the available ones, then replacements for those that are not), and what the page says
    about it. A template the user may not see is a 404 (NotFound)."""
    template = template_get(user=user, template_id=template_id)
    availability = template_availability(template=template)
    unavailable = set(availability.unavailable_slugs)
    slugs = [slug for slug in template.experts if slug not in unavailable]
    slugs += [item.agent.slug for item in availability.replacements]
    initial = {**initial, "panel_type": template.panel_type, "query": template.question_template or initial["query"],
               "max_rounds": template.max_rounds, "documents": template.documents}
    notice = {"template": template, "placeholders": template_placeholders(template.question_template),
              "unavailable": [{"slug": e.slug, "reason": UNAVAILABLE_REASONS[e.reason]}
                              for e in availability.unavailable],
              "replacements": [item.agent for item in availability.replacements]}
    return initial, slugs, notice
