from django.urls import path

from .views import activities, editing, iati, plan, review, updates

urlpatterns = [
    path("plan/", plan.plan, name="plan"),
    path("plan/agreement/", plan.agreement, name="agreement"),
    path("plan/iati-activities.xml", iati.iati_activities, name="iati-activities"),
    path("plan/focus-areas/<str:code>/", plan.focus_area, name="focus-area"),
    path("plan/indicators/<str:code>/", plan.indicator, name="indicator"),
    path("plan/objectives/<str:code>/", plan.objective, name="objective"),
    path("plan/<str:kind>/new/", editing.edit_plan_item, name="plan-item-new"),
    path("plan/<str:kind>/<str:code>/edit/", editing.edit_plan_item, name="plan-item-edit"),
    path("activities/", activities.activity_list, name="activity-list"),
    path("activities/<str:code>/", activities.activity_detail, name="activity-detail"),
    path("activities/<str:code>/report/", updates.update_create, name="update-create"),
    path("updates/", updates.my_updates, name="my-updates"),
    path("updates/review/", review.queue, name="review-queue"),
    path("updates/review/approve/", review.approve_selected, name="review-approve-selected"),
    path("updates/<uuid:pk>/", updates.update_detail, name="update-detail"),
    path("updates/<uuid:pk>/edit/", updates.update_edit, name="update-edit"),
    path("updates/<uuid:pk>/submit/", updates.update_submit, name="update-submit"),
    path("updates/<uuid:pk>/withdraw/", updates.update_withdraw, name="update-withdraw"),
    path("updates/<uuid:pk>/comments/", updates.update_comment, name="update-comment"),
    path("updates/<uuid:pk>/approve/", review.approve, name="update-approve"),
    path("updates/<uuid:pk>/return/", review.return_, name="update-return"),
    path("updates/<uuid:pk>/reopen/", review.reopen, name="update-reopen"),
    path("updates/<uuid:pk>/close-out/", review.close_out, name="update-close-out"),
    path("updates/<uuid:pk>/evidence/", updates.evidence_upload, name="evidence-upload"),
    path("evidence/<int:pk>/", updates.evidence_download, name="evidence-download"),
    path("evidence/<int:pk>/remove/", updates.evidence_remove, name="evidence-remove"),
    path("evidence/<int:pk>/publish/", updates.evidence_publish, name="evidence-publish"),
    path("evidence/<int:pk>/public/", updates.evidence_public, name="evidence-public"),
]
