"""The About page: co-production in plain words, all ten components, the credit."""

from tests.pages._helpers import page, texts


def test_about_lists_ten_components_and_credits_co_create():
    at = page("about", None)
    assert not at.exception
    names = [s.value for s in at.subheader]
    assert len(names) == 10
    for name in ("Equal", "Inclusive", "Open", "Human", "Transparent", "Action focused"):
        assert name in names
    assert any("Creative" in n for n in names) and any("cycles" in n for n in names)
    assert "Based on Co-Create's ten components of co-production" in texts(at)
    assert texts(at).count("What coprod_map offers") == 10
