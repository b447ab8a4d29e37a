from django.urls import path

from agents.api.views import (AgentDetailView, AgentListView, AgentPreferencesView, CustomAgentDetailView,
                              CustomAgentListView)

urlpatterns = [
    path("agents/", AgentListView.as_view(), name="agent-list"),
    path("agents/<slug:slug>/", AgentDetailView.as_view(), name="agent-detail"),
    path("agent-preferences/", AgentPreferencesView.as_view(), name="agent-preferences"),
    path("custom-agents/", CustomAgentListView.as_view(), name="custom-agent-list"),
    path("custom-agents/<slug:slug>/", CustomAgentDetailView.as_view(), name="custom-agent-detail"),
]
