"""Experts pages (on a tenant's host; the API is in agents/api/urls.py)."""

from django.urls import path

from agents import views

urlpatterns = [
    path("experts/", views.expert_list_view, name="expert-list"),
    path("experts/<slug:slug>/", views.expert_detail_view, name="expert-detail"),
]
