from django.urls import path

from panels.api import templates

urlpatterns = [
    path("panel-templates/", templates.PanelTemplateListView.as_view(), name="panel-template-list"),
    path("panel-templates/<int:template_id>/", templates.PanelTemplateDetailView.as_view(),
         name="panel-template-detail"),
    path("panel-templates/<int:template_id>/favourite/", templates.PanelTemplateFavouriteView.as_view(),
         name="panel-template-favourite"),
]
