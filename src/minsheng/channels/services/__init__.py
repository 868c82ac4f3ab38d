"""The channels' write path: the only code that changes their records. Keyword-only
functions, each one transaction; appeals are filed through the case engine
(cases.services.case_submit / cases_intake_many) and routed by the dispatch engine after the
transaction commits."""

from .boxes import box_set_active, boxes_open, note_moderate, note_submit_online, notes_enter_paper
from .forums import forum_add_issues, forum_add_photos, forum_record, forum_update
from .imports import (
    import_batch_cancel,
    import_batch_create,
    import_batch_start,
    import_batch_step,
    import_file,
)
from .surveys import (
    survey_answer_to_appeal,
    survey_close,
    survey_create,
    survey_publish,
    survey_question_add,
    survey_question_delete,
    survey_question_move,
    survey_question_update,
    survey_reopen,
    survey_response_submit,
    survey_section_add,
    survey_section_delete,
    survey_section_update,
    survey_update,
)
from .visits import visit_record

__all__ = [
    "box_set_active", "boxes_open", "forum_add_issues", "forum_add_photos", "forum_record", "forum_update",
    "import_batch_cancel", "import_batch_create", "import_batch_start", "import_batch_step", "import_file",
    "note_moderate", "note_submit_online", "notes_enter_paper", "survey_answer_to_appeal", "survey_close",
    "survey_create", "survey_publish", "survey_question_add", "survey_question_delete", "survey_question_move",
    "survey_question_update", "survey_reopen", "survey_response_submit", "survey_section_add", "survey_section_delete",
    "survey_section_update", "survey_update", "visit_record",
]
