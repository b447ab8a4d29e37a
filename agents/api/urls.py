from django.urls import path

from agents.api.views import AgentDetailView, AgentListView, AgentPreferencesView

urlpatterns = [
    path("agents/", AgentListView.as_view(), name="agent-list"),
    path("agents/<slug:slug>/", AgentDetailView.as_view(), name="agent-detail"),
    path("agent-preferences/", AgentPreferencesView.as_view(), name="agent-preferences"),
]
