"""Forms of the panel pages. They check the shape of the input (types, lengths the browser
also enforces); the rules themselves are panel_create's and the other services', whose
refusals the views attach to the field they name."""

from django import forms

from config.errors import DomainError
from panels.lifecycle import Status
from panels.services import QUERY_MAX, QUERY_MIN
from panels.types import REGISTRY

MAX_EXPERTS_CHOSEN = 20


class PanelAskForm(forms.Form):
    query = forms.CharField(
        label="Your question", min_length=QUERY_MIN, max_length=QUERY_MAX, strip=True,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "What should the panel decide or advise on?"}),
    )
    panel_type = forms.ChoiceField(label="Panel type", choices=[(name, t.label) for name, t in REGISTRY.items()])
    experts = forms.MultipleChoiceField(required=False)  # slugs; checked by panel_create
    max_rounds = forms.IntegerField(label="Rounds", required=False, min_value=1, max_value=10)
    documents = forms.TypedMultipleChoiceField(label="Documents to ground on", required=False, coerce=int,
                                               widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, documents=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["documents"].choices = [(d.pk, d.title) for d in documents]
        self.fields["experts"].choices = [(slug, slug) for slug in self.data.getlist("experts")] \
            if hasattr(self.data, "getlist") else []

    def clean_experts(self):
        experts = self.cleaned_data["experts"]
        if len(experts) > MAX_EXPERTS_CHOSEN:
            raise forms.ValidationError(f"Choose at most {MAX_EXPERTS_CHOSEN} experts.")
        return experts

    def add_domain_error(self, error: DomainError) -> None:
        """A service's refusal, on the field it names (or the whole form)."""
        field = error.details.get("field")
        self.add_error(field if field in self.fields else None, error.message)


class HistoryFilterForm(forms.Form):
    q = forms.CharField(label="Search the questions", required=False, max_length=200)
    panel_type = forms.ChoiceField(label="Type", required=False,
                                   choices=[("", "Any type")] + [(n, t.label) for n, t in REGISTRY.items()])
    status = forms.ChoiceField(label="Status", required=False,
                               choices=[("", "Any status")] + [(s.lower(), s.label.title()) for s in Status])
    created_from = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    created_to = forms.DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))


class HumanInputForm(forms.Form):
    expert_name = forms.CharField(label="Your name and role", max_length=200)
    text = forms.CharField(label="Your input", max_length=5000, widget=forms.Textarea(attrs={"rows": 5}))


class RateForm(forms.Form):
    score = forms.TypedChoiceField(label="Rating", coerce=int, choices=[(n, str(n)) for n in range(1, 6)])
    comment = forms.CharField(label="Comment", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
