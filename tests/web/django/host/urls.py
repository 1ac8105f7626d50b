from __future__ import annotations

from django.urls import path

from tests.web.django.host import views

urlpatterns = [
    path("write-both/", views.write_both),
    path("reply/<uuid:ticket_id>/", views.reply),
    path("invite/<uuid:person_id>/", views.invite),
    path("offers/<uuid:grant_id>/send/", views.send_offer),
    path("tickets/<uuid:ticket_id>/", views.ticket),
    path("tickets/<uuid:ticket_id>/change/", views.change),
    path("projects/<uuid:project_id>/<int:number>/", views.ticket_by_number),
    path("projects/<uuid:project_id>/new/<uuid:type_id>/", views.new_ticket),
    path("me/", views.me),
    path("sign-in/", views.magic_link),
    path("sign-out/", views.leave),
    path("signin/", views.signin),
    path("signin-default/", views.signin_default),
    path("mine/<uuid:ticket_id>/", views.mine),
    path("staff-only/", views.staff_only),
    path("brand/", views.brand),
]
