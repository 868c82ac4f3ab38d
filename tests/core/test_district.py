import pytest
from django.core.management import CommandError, call_command

from minsheng.cases.models import Category, DeadlinePolicy
from minsheng.core.models import Unit

pytestmark = pytest.mark.django_db


def test_the_demo_district_is_loaded():
    assert Unit.objects.streets().count() == 14
    assert Unit.objects.communities().count() == 152
    assert Unit.objects.departments().count() == 26
    assert Category.objects.filter(parent__isnull=False).count() == 56
    assert DeadlinePolicy.objects.get(urgency="normal").resolve_within == "7 days working"
    assert Unit.objects.get(kind="community", code="JSL01").parent.code == "JSL"


def test_territorial_subcategories_know_their_department():
    sub = Category.objects.get(code="CGM.HJWS")
    assert (sub.routing, sub.department.code, sub.parent.code) == ("territorial", "CGJ", "CGM")


def test_reloading_is_idempotent():
    before = (Unit.objects.count(), Category.objects.count())
    call_command("load_district")
    assert (Unit.objects.count(), Category.objects.count()) == before


def test_a_community_dropped_from_the_gazetteer_is_deactivated_not_deleted(tmp_path):
    import yaml

    from minsheng.data import GAZETTEER_PATH, TAXONOMY_PATH

    gaz = yaml.safe_load(GAZETTEER_PATH.read_text(encoding="utf-8"))
    gaz["streets"][0]["communities"].pop()
    path = tmp_path / "g.yaml"
    path.write_text(yaml.safe_dump(gaz, allow_unicode=True), encoding="utf-8")
    call_command("load_district", str(TAXONOMY_PATH), str(path))
    assert Unit.objects.communities().filter(active=False).count() == 1


def test_a_wrong_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("just: text\n", encoding="utf-8")
    with pytest.raises(CommandError, match="分类文件"):
        call_command("load_district", str(bad), str(bad))


def test_a_subcategory_naming_an_unknown_department_is_refused(tmp_path):
    import yaml

    from minsheng.data import GAZETTEER_PATH, TAXONOMY_PATH

    tax = yaml.safe_load(TAXONOMY_PATH.read_text(encoding="utf-8"))
    tax["categories"][0]["subcategories"][0]["dept"] = "NOPE"
    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump(tax, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CommandError, match="NOPE"):
        call_command("load_district", str(path), str(GAZETTEER_PATH))
