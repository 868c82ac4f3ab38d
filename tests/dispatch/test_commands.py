"""The eval-dispatch and train-dispatch management commands, on the tiny hand-made corpus."""

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from minsheng.dispatch.engine import DispatchClassifier
from minsheng.dispatch.engine.evaluation import METRIC_KEYS
from minsheng.dispatch.engine.modelstore import CURRENT_MODEL

from .conftest import TINY_CORPUS

EVAL_ITEMS = [
    {"id": "e1", "text": "计划路菜市场门口的垃圾没人清运", "category": "CGM", "subcategory": "CGM.HJWS",
     "unit": "street:JSL", "street": "JSL", "community": "JSL03", "urgency": "normal", "dup_group": None},
    {"id": "e2", "text": "锦绣城小区电梯困人了", "category": "ZF", "subcategory": "ZF.DT",
     "unit": "dept:SJJ", "street": "MFL", "community": "MFL08", "urgency": "urgent", "dup_group": None},
]


@pytest.fixture()
def tiny_corpus(tmp_path, monkeypatch, settings):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    with open(corpus / "ALL.jsonl", "w", encoding="utf-8") as fh:
        for item in TINY_CORPUS:
            fh.write(json.dumps(item, ensure_ascii=False) + "\n")
    settings.MINSHENG_DATA_DIR = tmp_path / "data"
    for module in ("eval_dispatch", "train_dispatch"):
        monkeypatch.setattr(f"minsheng.dispatch.management.commands.{module}.corpus_dir", lambda: corpus)
    return tmp_path


def test_eval_dispatch_prints_table_and_json_last(tiny_corpus):
    path = tiny_corpus / "eval.jsonl"
    path.write_text("\n".join(json.dumps(i, ensure_ascii=False) for i in EVAL_ITEMS), encoding="utf-8")
    out = StringIO()
    call_command("eval_dispatch", str(path), "--json", "--baseline", stdout=out, stderr=StringIO())
    lines = out.getvalue().strip().splitlines()
    assert any(line.startswith("category_acc") for line in lines)
    result = json.loads(lines[-1])
    assert set(METRIC_KEYS) <= set(result) and result["n"] == 2
    assert set(METRIC_KEYS) <= set(result["baseline"])
    # the model is cached under MINSHENG_DATA_DIR/models, keyed by the corpus
    assert list((Path(tiny_corpus) / "data" / "models").glob("dispatch-*.pkl"))


@pytest.mark.django_db  # confirmed cases come from the database
def test_train_dispatch_saves_the_current_model(tiny_corpus):
    out = StringIO()
    call_command("train_dispatch", stdout=out, stderr=StringIO())
    text = out.getvalue()
    assert "version" in text and "held-out" in text
    model = DispatchClassifier.load(Path(tiny_corpus) / "data" / "models" / CURRENT_MODEL)
    assert model.trained_on == len(TINY_CORPUS)
    from minsheng.dispatch.models import DispatchModel

    record = DispatchModel.objects.get(active=True)
    assert record.version == model.version and record.corpus_items == len(TINY_CORPUS)
    heldout = record.heldout
    assert {"n", "category_acc", "subcategory_acc", "subcategory_top3", "urgency_f1", "confusion"} <= set(heldout)
    assert sum(map(sum, heldout["confusion"]["matrix"])) == heldout["n"]
