"""A tenant's own pages: sign-in and password, settings (tenant admins), the branding logo."""

from django.urls import path

from tenants import views

urlpatterns = [
    path("accounts/login/", views.SignInView.as_view(), name="login"),
    path("accounts/logout/", views.SignOutView.as_view(), name="logout"),
    path("accounts/password/", views.PasswordChangeView.as_view(), name="password-change"),
    path("branding/<str:name>", views.branding_logo, name="branding-logo"),
    path("settings/", views.settings_overview, name="settings"),
    path("settings/branding/", views.settings_branding, name="settings-branding"),
    path("settings/branding/preview/", views.settings_branding_preview, name="settings-branding-preview"),
    path("settings/defaults/", views.settings_defaults, name="settings-defaults"),
    path("settings/users/", views.settings_users, name="settings-users"),
    path("settings/users/<int:user_id>/role/", views.settings_user_role, name="settings-user-role"),
    path("settings/users/<int:user_id>/active/", views.settings_user_active, name="settings-user-active"),
    path("settings/tokens/", views.settings_tokens, name="settings-tokens"),
]
