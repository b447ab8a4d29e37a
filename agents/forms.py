"""The private expert form: it shapes what a tenant admin typed into the fields the
service takes (list fields one item per line); agents.tenant.services checks every field."""

from __future__ import annotations

from django import forms

from agents.domains import DISPOSITIONS, DOMAINS
from agents.tenant.models import CustomAgent

LIST_FIELDS = ("capabilities", "knowledge_domains", "key_considerations")
ONE_PER_LINE = "One per line."


class CustomAgentForm(forms.Form):
    """No rules of its own (every field is optional and any text passes): the service's
    refusal is shown next to the field it names, so the page and the API say the same."""

    slug = forms.CharField(required=False, strip=False, help_text="Lowercase words joined by hyphens, e.g. "
                           "our-cmc-lead. It names the expert in addresses and cannot be changed later.")
    name = forms.CharField(required=False, strip=False, help_text="A person's name or a role, e.g. Dr. Mara Quist.")
    title = forms.CharField(required=False, strip=False)
    domain = forms.CharField(required=False, widget=forms.Select(choices=[("", "Choose a domain"), *DOMAINS.items()]))
    business_function = forms.CharField(required=False, strip=False, label="Business function")
    disposition = forms.CharField(required=False, initial="balanced", widget=forms.Select(
        choices=[(disposition, disposition.capitalize()) for disposition in DISPOSITIONS]),
        help_text="How the expert leans in a discussion.")
    capabilities = forms.CharField(required=False, strip=False, widget=forms.Textarea(attrs={"rows": 4}),
                                   help_text=f"{ONE_PER_LINE} At least one; ranking matches questions to these.")
    knowledge_domains = forms.CharField(required=False, strip=False, label="Knowledge",
                                        widget=forms.Textarea(attrs={"rows": 3}), help_text=ONE_PER_LINE)
    key_considerations = forms.CharField(required=False, strip=False, label="What it weighs",
                                         widget=forms.Textarea(attrs={"rows": 3}), help_text=ONE_PER_LINE)
    system_prompt = forms.CharField(required=False, strip=False, label="Profile (the expert's instructions)",
                                    widget=forms.Textarea(attrs={"rows": 8}))

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:  # the slug stays: shown, never sent
            self.fields["slug"].disabled = True
            self.fields["slug"].help_text = "The slug cannot be changed."

    @classmethod
    def for_agent(cls, agent: CustomAgent, data=None) -> CustomAgentForm:
        initial = {name: getattr(agent, name) for name in
                   ("slug", "name", "title", "domain", "business_function", "disposition", "system_prompt")}
        initial |= {name: "\n".join(getattr(agent, name)) for name in LIST_FIELDS}
        return cls(data, initial=initial, editing=True)

    def service_data(self) -> dict:
        """The fields as the service takes them: list fields split into their non-empty lines."""
        data = dict(self.cleaned_data)
        for name in LIST_FIELDS:
            data[name] = [line.strip() for line in data[name].splitlines() if line.strip()]
        return data

    def add_refusal(self, refusal) -> None:
        """The service's message next to the field it names, or above the form."""
        field = refusal.details.get("field")
        self.add_error(field if field in self.fields else None, refusal.message)
