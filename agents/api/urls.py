from django.urls import path

from agents.api.views import AgentDetailView, AgentListView, AgentPreferencesView, AgentRecommendView

urlpatterns = [
    path("agents/", AgentListView.as_view(), name="agent-list"),
    path("agents/recommend/", AgentRecommendView.as_view(), name="agent-recommend"),
    path("agents/<slug:slug>/", AgentDetailView.as_view(), name="agent-detail"),
    path("agent-preferences/", AgentPreferencesView.as_view(), name="agent-preferences"),
]
