"""The panel pages (the API is in panels/api/urls.py)."""

from django.urls import path

from panels import views, views_analytics, views_templates

urlpatterns = [
    path("", views.dashboard, name="home"),
    path("analytics/", views_analytics.analytics_page, name="analytics"),
    path("panels/", views.panel_history_page, name="panel-history"),
    path("panels/new/", views.panel_ask, name="panel-ask"),
    path("panels/templates/", views_templates.template_list_page, name="panel-templates"),
    path("panels/templates/<int:template_id>/edit/", views_templates.template_edit_page, name="panel-template-edit"),
    path("panels/templates/<int:template_id>/delete/", views_templates.template_delete_page,
         name="panel-template-delete"),
    path("panels/templates/<int:template_id>/favourite/", views_templates.template_favourite_page,
         name="panel-template-favourite-page"),
    path("panels/<int:panel_id>/save-template/", views_templates.template_save_from_panel,
         name="panel-save-template"),
    path("panels/new/recommended/", views.ask_recommend, name="panel-ask-recommended"),
    path("panels/new/catalog/", views.ask_catalog, name="panel-ask-catalog"),
    path("panels/new/estimate/", views.ask_estimate, name="panel-ask-estimate"),
    path("panels/<int:panel_id>/", views.panel_page, name="panel-page"),
    path("panels/<int:panel_id>/cancel/", views.panel_page_cancel, name="panel-page-cancel"),
    path("panels/<int:panel_id>/human-input/", views.panel_page_human_input, name="panel-page-human-input"),
    path("panels/<int:panel_id>/rate/", views.panel_rate_view, name="panel-rate"),
    path("panels/<int:panel_id>/status/", views.panel_status, name="panel-status"),
    path("panels/<int:panel_id>/human/", views.panel_human_block, name="panel-human"),
    path("panels/<int:panel_id>/outcome/", views.panel_outcome, name="panel-outcome"),
    path("panels/<int:panel_id>/contributions/<int:contribution_id>/", views.panel_card, name="panel-card"),
]
