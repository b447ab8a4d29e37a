"""Forms of the tenant's pages. They shape input only: the rules live in tenants/services.py
and tenants/configuration.py, and their refusals come back through `add_domain_error`."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm

from config.errors import DomainError
from tenants.configuration import PANEL_TYPE_NAMES
from tenants.services import ROLES
from tenants.throttling import SignInThrottled, signin_check, signin_failure_record, signin_success_record


def add_domain_error(form: forms.Form, error: DomainError) -> None:
    """Show a service's refusal on the field it names (`branding.primary_color` ->
    `primary_color`), or on the whole form."""
    field = (error.details or {}).get("field", "")
    name = field.split(".")[-1]
    message = error.message.split(": ", 1)[1] if name and error.message.startswith(f"{field}: ") else error.message
    form.add_error(name if name in form.fields else None, message)


class SignInForm(AuthenticationForm):
    """Django's sign-in, refused while this username or IP has failed too often."""

    throttled = False

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        ip = self.request.META.get("REMOTE_ADDR", "") if self.request else ""
        try:
            signin_check(username=username, ip=ip)
        except SignInThrottled as exc:
            self.throttled = True
            raise forms.ValidationError(exc.message, code=exc.code) from exc
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            if self.cleaned_data.get("password"):
                signin_failure_record(username=username, ip=ip)
            raise
        signin_success_record(username=username)
        return cleaned


COLOUR_WIDGET = forms.TextInput(attrs={"type": "color"})


class BrandingForm(forms.Form):
    display_name = forms.CharField(max_length=100, help_text="Shown in the header, titles and e-mails.")
    primary_color = forms.CharField(label="Primary colour", widget=COLOUR_WIDGET, help_text="Header and links.")
    secondary_color = forms.CharField(label="Secondary colour", widget=COLOUR_WIDGET, help_text="Page background.")
    accent_color = forms.CharField(label="Accent colour", widget=COLOUR_WIDGET, help_text="Buttons.")
    font_family = forms.CharField(max_length=200, help_text="A CSS font list, e.g. Georgia, serif.")
    logo = forms.FileField(
        required=False, widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg,image/gif,image/webp"}),
        help_text="PNG, JPEG, GIF or WebP.",
    )
    remove_logo = forms.BooleanField(required=False, label="Remove the current logo")
    favicon_url = forms.CharField(
        required=False, label="Favicon URL", help_text="A path like /static/… or an https:// URL; the logo when empty."
    )
    custom_css = forms.CharField(
        required=False, label="Custom CSS", widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}),
        help_text="Added after the layout's own styles.",
    )

    BRANDING_FIELDS = ("display_name", "primary_color", "secondary_color", "accent_color", "font_family",
                       "favicon_url", "custom_css")

    def branding(self, *, logo_url: str) -> dict:
        """The overrides to store (the current logo is kept unless replaced or removed)."""
        data = {name: self.cleaned_data[name] for name in self.BRANDING_FIELDS}
        data["logo_url"] = logo_url
        return data


class PanelDefaultsForm(forms.Form):
    panel_type = forms.ChoiceField(label="Default panel type", choices=[(name, name.title()) for name in PANEL_TYPE_NAMES])
    rounds = forms.IntegerField(label="Discussion rounds", help_text="1 to 5.")
    consensus_threshold = forms.FloatField(label="Consensus threshold", help_text="Above 0 and at most 1, e.g. 0.7.")

    def __init__(self, *args, enabled_panel_types: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["panel_type"].choices = [(name, name.title()) for name in enabled_panel_types]


ROLE_CHOICES = [(role, role.title()) for role in ROLES]


class UserCreateForm(forms.Form):
    username = forms.CharField(max_length=150)
    email = forms.EmailField(required=False)
    password = forms.CharField(widget=forms.PasswordInput(render_value=False), strip=False,
                               help_text="At least 8 characters; share it with the person privately.")
    role = forms.ChoiceField(choices=ROLE_CHOICES, initial="member",
                             help_text="Admins open Settings: branding, users and tokens.")


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=ROLE_CHOICES)
