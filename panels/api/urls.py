from django.urls import include, path

from panels.api import views

urlpatterns = [
    path("agents/recommend/", views.AgentRecommendView.as_view(), name="agent-recommend"),
    path("panels/", views.PanelListView.as_view(), name="panel-list"),
    path("panels/estimate/", views.PanelEstimateView.as_view(), name="panel-estimate"),
    path("panels/<int:panel_id>/", views.PanelDetailView.as_view(), name="panel-detail"),
    path("panels/<int:panel_id>/cancel/", views.PanelCancelView.as_view(), name="panel-cancel"),
    path("panels/<int:panel_id>/events/", views.PanelEventsView.as_view(), name="panel-events"),
    path("panels/<int:panel_id>/human-input/", views.PanelHumanInputView.as_view(), name="panel-human-input"),
    path("panels/<int:panel_id>/rating/", views.PanelRatingView.as_view(), name="panel-rating"),
    path("panels/<int:panel_id>/export.md", views.PanelExportMarkdownView.as_view(), name="panel-export-md"),
    path("panels/<int:panel_id>/export.pdf", views.PanelExportPdfView.as_view(), name="panel-export-pdf"),
    path("", include("panels.api.template_urls")),
]
