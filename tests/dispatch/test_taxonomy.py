"""Routing rules: territorial items go to the street office of the location, others to the
responsible department wherever they happened."""


def test_loads_categories_and_subcategories(taxonomy):
    assert "CGM" in taxonomy.categories
    sub = taxonomy.subcategories["CGM.HJWS"]
    assert (sub.name, sub.routing, sub.dept, sub.category) == ("环境卫生", "territorial", "CGJ", "CGM")
    assert taxonomy.category_of("GY.RQ") == "GY"
    assert taxonomy.departments["GAS"] == "郑州华润燃气股份有限公司"
    assert set(taxonomy.urgency) >= {"urgent", "normal"}


def test_territorial_goes_to_street(taxonomy):
    assert taxonomy.route("CGM.HJWS", "LSZ") == "street:LSZ"
    assert taxonomy.route("ZF.WYFW", "MFL") == "street:MFL"


def test_territorial_without_street_needs_location(taxonomy):
    assert taxonomy.route("CGM.ZDJY", None) is None


def test_department_ignores_street(taxonomy):
    assert taxonomy.route("GY.RQ", "LSZ") == "dept:GAS"
    assert taxonomy.route("GY.RQ", None) == "dept:GAS"
    assert taxonomy.route("ZF.DT", None) == "dept:SJJ"  # elevators: market supervision


def test_unknown_subcategory_routes_nowhere(taxonomy):
    assert taxonomy.route("XX.YY", "LSZ") is None
    assert taxonomy.route(None, "LSZ") is None


def test_unit_names(taxonomy):
    assert taxonomy.unit_name("dept:CGJ") == "区城市管理局"
    assert taxonomy.unit_name("street:LSZ", {"LSZ": "林山寨街道"}) == "林山寨街道"
    assert taxonomy.unit_name(None) == ""
