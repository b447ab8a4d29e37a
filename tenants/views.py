"""A tenant's own pages: sign-in, password, settings (tenant admins only), error pages.

Thin: each view reads a form, calls one service from tenants/services.py, and shows a
refusal (DomainError) on the form. The API calls the same services.
"""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.messages.views import SuccessMessageMixin
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponseServerError
from django.shortcuts import get_object_or_404, redirect, render
from django.template import loader
from django.urls import reverse_lazy
from django.views.decorators.http import require_POST

from config.errors import DomainError
from tenants import services
from tenants.branding import contrast_warnings
from tenants.configuration import (
    Branding,
    ConfigurationError,
    TenantConfiguration,
    mask_secret,
    validate_branding,
)
from tenants.forms import (
    BrandingForm,
    PanelDefaultsForm,
    RoleForm,
    SignInForm,
    UserCreateForm,
    add_domain_error,
)
from tenants.roles import is_tenant_admin
from tenants.selectors import tenant_users, token_get


def tenant_admin_required(view):
    """Signed in, and a tenant admin (is_staff); a member gets the branded 403 page."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not is_tenant_admin(request.user):
            raise PermissionDenied("Settings are for this workspace's admins; ask one of them for changes.")
        return view(request, *args, **kwargs)

    return wrapper


# --- Sign in, sign out, password ------------------------------------------------------


class SignInView(auth_views.LoginView):
    form_class = SignInForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.throttled:
            response.status_code = 429
        return response


class SignOutView(auth_views.LogoutView):
    next_page = reverse_lazy("login")


class PasswordChangeView(SuccessMessageMixin, auth_views.PasswordChangeView):
    template_name = "registration/password_change.html"
    success_url = reverse_lazy("home")
    success_message = "Your password was changed."


# --- The uploaded logo ---------------------------------------------------------------


def branding_logo(request, name: str):
    """A tenant's logo, from MEDIA_ROOT/tenants/<schema>/branding/ (public: the sign-in page shows it)."""
    storage = services.branding_storage()
    path = f"branding/{name}"
    if not services.LOGO_NAME.match(name) or not storage.exists(path):
        raise Http404("No such logo.")
    response = FileResponse(storage.open(path, "rb"))
    response["Cache-Control"] = "public, max-age=31536000, immutable"  # the name is the content's hash
    return response


# --- Settings -----------------------------------------------------------------------


def _configuration(request) -> TenantConfiguration:
    return request.tenant.configuration


@tenant_admin_required
def settings_overview(request):
    return render(request, "tenants/settings_overview.html", {"configuration": _configuration(request)})


def _preview_context(form: BrandingForm, current: Branding) -> dict:
    """Branding as typed (validated by the same rules as saving) and its contrast warnings."""
    if not form.is_valid():
        return {"preview": current, "preview_error": "Fill in every required field to see the preview."}
    values = form.branding(logo_url=current.logo_url)
    try:
        validate_branding(values)
    except ConfigurationError as exc:
        return {"preview": current, "preview_error": exc.message}
    preview = Branding(**values)
    return {"preview": preview, "warnings": contrast_warnings(preview)}


@tenant_admin_required
def settings_branding(request):
    current = _configuration(request).branding
    if request.method == "POST":
        form = BrandingForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                services.tenant_branding_set(
                    tenant=request.tenant,
                    branding=form.branding(logo_url=current.logo_url),
                    logo=form.cleaned_data["logo"],
                    remove_logo=form.cleaned_data["remove_logo"],
                    actor=request.user,
                )
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(request, "Branding saved.")
                return redirect("settings-branding")
    else:
        form = BrandingForm(initial={name: getattr(current, name) for name in BrandingForm.BRANDING_FIELDS}
                            | {name: _six_digit(getattr(current, name)) for name in
                               ("primary_color", "secondary_color", "accent_color")})
    context = {"form": form, "current": current, "preview": current, "warnings": contrast_warnings(current)}
    return render(request, "tenants/settings_branding.html", context, status=400 if form.errors else 200)


@tenant_admin_required
@require_POST
def settings_branding_preview(request):
    """htmx: the preview and its contrast warnings for the branding being typed."""
    current = _configuration(request).branding
    form = BrandingForm(request.POST)
    return render(request, "tenants/_branding_preview.html", _preview_context(form, current))


def _six_digit(colour: str) -> str:
    """<input type=color> takes #rrggbb only."""
    return "#" + "".join(d * 2 for d in colour[1:]) if len(colour) == 4 else colour


@tenant_admin_required
def settings_defaults(request):
    configuration = _configuration(request)
    enabled = configuration.features.enabled_panel_types
    defaults = configuration.panel_defaults
    if request.method == "POST":
        form = PanelDefaultsForm(request.POST, enabled_panel_types=enabled)
        if form.is_valid():
            try:
                services.tenant_panel_defaults_set(tenant=request.tenant, panel_defaults=form.cleaned_data,
                                                   actor=request.user)
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(request, "Panel defaults saved.")
                return redirect("settings-defaults")
    else:
        form = PanelDefaultsForm(
            initial={"panel_type": defaults.panel_type, "rounds": defaults.rounds,
                     "consensus_threshold": defaults.consensus_threshold},
            enabled_panel_types=enabled,
        )
    return render(request, "tenants/settings_defaults.html", {"form": form}, status=400 if form.errors else 200)


@tenant_admin_required
def settings_users(request):
    form = UserCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.tenant_user_create(**form.cleaned_data, actor=request.user)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, f"{user.username} can now sign in as {form.cleaned_data['role']}.")
            return redirect("settings-users")
    users = tenant_users()
    return render(
        request, "tenants/settings_users.html", {"form": form, "users": users},
        status=400 if form.errors else 200,
    )


@tenant_admin_required
@require_POST
def settings_user_role(request, user_id: int):
    user = get_object_or_404(get_user_model(), pk=user_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose admin or member.")
        return redirect("settings-users")
    try:
        services.tenant_user_set_role(actor=request.user, user=user, role=form.cleaned_data["role"])
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{user.username} is now {form.cleaned_data['role']}.")
    return redirect("settings-users")


@tenant_admin_required
@require_POST
def settings_user_active(request, user_id: int):
    user = get_object_or_404(get_user_model(), pk=user_id)
    try:
        if request.POST.get("active") == "1":
            services.tenant_user_reactivate(user=user, actor=request.user)
            messages.success(request, f"{user.username} can sign in again.")
        else:
            services.tenant_user_deactivate(actor=request.user, user=user)
            messages.success(request, f"{user.username} was deactivated and can no longer sign in.")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("settings-users")


@tenant_admin_required
def settings_tokens(request):
    """The signed-in user's own API token: created (shown once), replaced, revoked."""
    new_key = None
    if request.method == "POST":
        if request.POST.get("action") == "revoke":
            if services.token_revoke(user=request.user):
                messages.success(request, "Your API token was revoked; requests using it are now refused.")
            return redirect("settings-tokens")
        new_key = services.token_create(user=request.user)
    token = token_get(user=request.user)
    response = render(request, "tenants/settings_tokens.html", {
        "token": token,
        "masked": mask_secret(token.key) if token else "",
        "new_key": new_key,
        "api_access": _configuration(request).features.api_access,
    })
    response["Cache-Control"] = "no-store"
    return response


# --- Error pages (handler500 in config/urls_tenant.py; 403/404 use Django's own) -------


def server_error(request):
    """The branded 500 page; plain text if even that cannot be rendered."""
    try:
        return HttpResponseServerError(loader.render_to_string("500.html", request=request))
    except Exception:  # the error may be in what the page needs (templates, branding)
        return HttpResponseServerError("Something went wrong on our side. Please try again later.",
                                       content_type="text/plain")


# --- The platform host's start page ---------------------------------------------------


def platform_home(request):
    from tenants.models import Tenant

    return render(request, "platform_home.html", {"tenant_count": Tenant.objects.exclude(schema_name="public").count()})
