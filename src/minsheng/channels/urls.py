"""Staff pages under /desk/channels/, residents' pages under /s/ (surveys) and /box/
(suggestion boxes)."""

from django.urls import include, path

from .views import boxes, files, forums, home, imports, privacy, public, surveys, visits

app_name = "channels"

staff = [
    path("", home.home, name="home"),
    # surveys
    path("surveys/", surveys.survey_list, name="surveys"),
    path("surveys/new/", surveys.survey_create, name="survey_create"),
    path("surveys/<int:pk>/", surveys.survey_detail, name="survey"),
    path("surveys/<int:pk>/edit/", surveys.survey_edit, name="survey_edit"),
    path("surveys/<int:pk>/sections/", surveys.section_add, name="section_add"),
    path("surveys/<int:pk>/questions/", surveys.question_add, name="question_add"),
    path("surveys/<int:pk>/publish/", surveys.survey_transition, {"action": "publish"}, name="survey_publish"),
    path("surveys/<int:pk>/close/", surveys.survey_transition, {"action": "close"}, name="survey_close"),
    path("surveys/<int:pk>/reopen/", surveys.survey_transition, {"action": "reopen"}, name="survey_reopen"),
    path("surveys/<int:pk>/results/", surveys.survey_results, name="survey_results"),
    path("surveys/<int:pk>/answers.xlsx", surveys.survey_export, name="survey_export"),
    path("surveys/<int:pk>/poster/", surveys.survey_poster, name="survey_poster"),
    path("sections/<int:pk>/edit/", surveys.section_edit, name="section_edit"),
    path("sections/<int:pk>/delete/", surveys.section_delete, name="section_delete"),
    path("questions/<int:pk>/edit/", surveys.question_edit, name="question_edit"),
    path("questions/<int:pk>/delete/", surveys.question_delete, name="question_delete"),
    path("questions/<int:pk>/move/", surveys.question_move, name="question_move"),
    path("answers/<int:pk>/to-appeal/", surveys.answer_to_appeal, name="answer_to_appeal"),
    # suggestion boxes
    path("boxes/", boxes.box_list, name="boxes"),
    path("boxes/open/", boxes.boxes_open, name="boxes_open"),
    path("boxes/<int:pk>/", boxes.box_detail, name="box"),
    path("boxes/<int:pk>/paper/", boxes.paper_entry, name="paper_entry"),
    path("boxes/<int:pk>/active/", boxes.box_active, name="box_active"),
    path("boxes/<int:pk>/poster/", boxes.box_poster, name="box_poster"),
    path("notes/", boxes.notes, name="notes"),
    path("notes/<int:pk>/moderate/", boxes.note_moderate, name="note_moderate"),
    # forums
    path("forums/", forums.forum_list, name="forums"),
    path("forums/new/", forums.forum_create, name="forum_create"),
    path("forums/ledger.xlsx", forums.forum_export, name="forum_export"),
    path("forums/<int:pk>/", forums.forum_detail, name="forum"),
    path("forums/<int:pk>/edit/", forums.forum_edit, name="forum_edit"),
    path("forums/<int:pk>/issues/", forums.forum_issues_add, name="forum_issues_add"),
    path("forums/<int:pk>/photos/", forums.forum_photos_add, name="forum_photos_add"),
    path("forums/<int:pk>/status/", forums.forum_status, name="forum_status"),
    path("forums/<int:pk>/ledger/", forums.forum_ledger, name="forum_ledger"),
    path("forums/photos/<int:pk>/", files.forum_photo, name="forum_photo"),
    # field visits
    path("visits/", visits.visit_list, name="visits"),
    path("visits/new/", visits.visit_create, name="visit_create"),
    path("visits/ledger/", visits.visit_ledger, name="visit_ledger"),
    path("visits/ledger.xlsx", visits.visit_ledger_export, name="visit_ledger_export"),
    path("visits/<int:pk>/", visits.visit_detail, name="visit"),
    path("visits/photos/<int:pk>/", files.visit_photo, name="visit_photo"),
    # bulk import
    path("import/", imports.import_home, name="import_home"),
    path("import/template.xlsx", imports.import_template, name="import_template"),
    path("import/<int:pk>/", imports.import_batch, name="import_batch"),
    path("import/<int:pk>/report.xlsx", imports.import_report, name="import_report"),
    path("import/<int:pk>/start/", imports.import_start, name="import_start"),
    path("import/<int:pk>/step/", imports.import_step, name="import_step"),
    path("import/<int:pk>/cancel/", imports.import_cancel, name="import_cancel"),
    # one masked field in full (audited)
    path("reveal/<slug:kind>/<int:pk>/<slug:field>/", privacy.reveal, name="reveal"),
]

public = [
    path("s/<str:token>/", public.survey_answer, name="survey_answer"),
    path("s/<str:token>/done/", public.survey_done, name="survey_done"),
    path("s/<str:token>/qr.png", surveys.survey_qr, name="survey_qr"),
    path("box/<str:token>/", public.box_note, name="box_note"),
    path("box/<str:token>/done/", public.box_done, name="box_done"),
    path("box/<str:token>/qr.png", public.box_qr, name="box_qr"),
]

urlpatterns = [path("desk/channels/", include(staff)), *public]
