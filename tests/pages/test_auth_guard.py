"""Sign-in and roles, enforced by the app on every page run directly (S5, S6, S7).

No identity provider is reachable offline, so the signed-in person is injected with ``at.user`` and sign-in
is "set up" with ``at.secrets["auth"]``, exactly the section a deployment puts in ``.streamlit/secrets.toml``.
Every page file is run on its own (``AppTest.from_file``), the way a page opened directly is.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from coprod_map import access_store
from coprod_map.ui.auth import LOCAL_NOTICE
from tests.pages._helpers import AUTH, ROOT, make_store, small_project, texts

#: Every page file except the participant form (reached by its own link, never showing the project).
PAGES = sorted(p.stem for p in (ROOT / "pages").glob("*.py") if p.stem != "participate")
PRIVATE_NAMES = set(small_project().stakeholders["name"])  # "Ann", "Youth club", "Council"


@pytest.fixture
def team(sqlite_url, monkeypatch):
    """Project 1 (the small project) with an owner, a facilitator and a viewer; project 2 belongs to Bea only."""
    monkeypatch.delenv("COPROD_MAP_ADMINS", raising=False)
    store, first = make_store(sqlite_url, monkeypatch)
    second = store.create_project("Bea's own project")
    access_store.set_member(store, first, "owner@example.org", role="owner", may_see_private=True)
    access_store.set_member(store, first, "fac@example.org", role="facilitator")
    access_store.set_member(store, first, "view@example.org", role="viewer")
    access_store.set_member(store, second, "bea@example.org", role="owner")
    yield store, first, second
    store.close()


def run(name: str, *, user: dict | None, project_id: str | None, auth: bool = True) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / f"{name}.py"), default_timeout=60)
    if auth:
        at.secrets["auth"] = AUTH
    if user is not None:
        at.user = user
    if project_id:
        at.session_state["project_id"] = project_id
    return at.run()


def signed_in(email: str) -> dict:
    return {"is_logged_in": True, "email": email, "name": "Test person"}


def everything_shown(at: AppTest) -> str:
    """Text, tables and choices on the page: where a project's data could show."""
    parts = [texts(at)]
    for frame in [*at.dataframe, *at.data_editor]:
        parts.append(frame.value.to_csv())
    for box in at.selectbox:
        parts += [str(o) for o in box.options]
    return "\n".join(parts)


@pytest.mark.parametrize("name", PAGES)
def test_signed_out_people_see_only_the_sign_in_button_on_every_page(team, name):
    _store, first, _ = team
    at = run(name, user={"is_logged_in": False}, project_id=first)
    assert not at.exception, name
    assert [b.label for b in at.button] == ["Sign in"], name
    assert not at.dataframe and not at.data_editor and not at.selectbox, name
    shown = everything_shown(at)
    assert "Riverside test" not in shown and not any(n in shown for n in PRIVATE_NAMES), name


@pytest.mark.parametrize("name", PAGES)
def test_a_non_member_sees_nothing_of_another_project_even_by_setting_its_id(team, name):
    _store, first, _ = team
    at = run(name, user=signed_in("bea@example.org"), project_id=first)  # Bea only belongs to project 2
    assert not at.exception, name
    shown = everything_shown(at)
    assert "Riverside test" not in shown, name
    assert not any(n in shown for n in PRIVATE_NAMES), name
    still_open = at.session_state["project_id"] if "project_id" in at.session_state else None  # noqa: SIM401
    assert still_open != first, name  # the id set by hand was closed, not kept


def test_a_signed_in_stranger_is_not_shown_any_project(team):
    _store, first, second = team
    at = run("home", user=signed_in("stranger@example.org"), project_id=None)
    assert not at.exception
    options = [str(o) for box in at.selectbox for o in box.options]
    assert first not in options and second not in options


def test_the_projects_list_holds_only_the_members_projects(team):
    _store, first, second = team
    at = run("home", user=signed_in("bea@example.org"), project_id=None)
    assert not at.exception
    assert [str(o) for box in at.selectbox for o in box.options] in ([second], ["Bea's own project"])
    assert "Riverside test" not in everything_shown(at)


def test_a_viewer_cannot_edit(team):
    store, first, _ = team
    before = store.revision(first)
    at = run("stakeholders", user=signed_in("view@example.org"), project_id=first)
    assert not at.exception
    assert not at.data_editor  # no editor, so nothing to change
    assert "viewer" in texts(at) and "does not let you change this project" in texts(at)
    for name in ("import_export", "settings", "record"):
        other = run(name, user=signed_in("view@example.org"), project_id=first)
        assert not other.data_editor and not other.file_uploader, name
        assert "does not let you" in texts(other), name
    assert store.revision(first) == before


def test_a_viewer_reads_the_summary_pages(team):
    _store, first, _ = team
    for name in ("representation", "network", "report"):
        at = run(name, user=signed_in("view@example.org"), project_id=first)
        assert not at.exception, name
        assert "does not let you" not in texts(at), name
        assert "Signed in as view@example.org (viewer)" in [c.value for c in at.sidebar.caption], name


def test_a_facilitator_edits(team):
    _store, first, _ = team
    at = run("stakeholders", user=signed_in("fac@example.org"), project_id=first)
    assert not at.exception
    assert len(at.data_editor) >= 1
    assert set(at.data_editor[0].value["name"]) == PRIVATE_NAMES


def test_an_admin_opens_any_project(team, monkeypatch):
    _store, first, _ = team
    monkeypatch.setenv("COPROD_MAP_ADMINS", "root@example.org")
    at = run("stakeholders", user=signed_in("Root@Example.org"), project_id=first)
    assert not at.exception and len(at.data_editor) >= 1


def test_without_sign_in_set_up_it_is_one_person_on_this_computer(team):
    _store, first, _ = team
    at = run("stakeholders", user={}, project_id=first, auth=False)
    assert not at.exception
    assert LOCAL_NOTICE in [c.value for c in at.caption]
    assert len(at.data_editor) >= 1 and "Sign in" not in [b.label for b in at.button]


def test_private_fields_follow_the_membership(team):
    """The permission itself, as the pages ask for it (``may_see_private``), per member."""
    def script():
        import streamlit as st

        from coprod_map.ui.auth import may_see_private

        st.text(f"private={may_see_private()}")

    for email, expected in (("owner@example.org", True), ("fac@example.org", False), ("view@example.org", False),
                            ("bea@example.org", False)):
        at = AppTest.from_function(script)
        at.secrets["auth"] = AUTH
        at.user = signed_in(email)
        at.session_state["project_id"] = team[1]
        at.run()
        assert [t.value for t in at.text] == [f"private={expected}"], email


def test_the_guard_is_wired_into_every_page_file():
    """Each page reaches the guard: through ``require_project`` or by calling it itself."""
    import inspect

    from coprod_map.ui import state

    assert "guard(" in inspect.getsource(state.require_project)
    for name in PAGES:
        source = Path(ROOT / "pages" / f"{name}.py").read_text()
        assert "require_project()" in source or "guard(" in source, name


def test_callbacks_check_again_and_a_creator_becomes_owner(team):
    """``allowed`` (for callbacks, which run before the page's guard) and ``make_owner`` (after creating)."""
    store, first, _ = team

    def script():
        import streamlit as st

        from coprod_map.ui.auth import allowed, make_owner

        st.text(f"edit={allowed('edit')} manage={allowed('manage')}")
        if st.session_state.get("made"):
            make_owner(st.session_state["made"])

    def run_as(user: dict, **state) -> list[str]:
        at = AppTest.from_function(script)
        at.secrets["auth"] = AUTH
        at.user = user
        at.session_state["project_id"] = first
        for key, value in state.items():
            at.session_state[key] = value
        at.run()
        assert not at.exception
        return [t.value for t in at.text]

    assert run_as({"is_logged_in": False}) == ["edit=False manage=False"]
    assert run_as(signed_in("view@example.org")) == ["edit=False manage=False"]
    assert run_as(signed_in("fac@example.org")) == ["edit=True manage=False"]
    assert run_as(signed_in("owner@example.org")) == ["edit=True manage=True"]
    assert run_as(signed_in("bea@example.org")) == ["edit=False manage=False"]  # not a member of project 1
    made = store.create_project("Made by Bea")
    run_as(signed_in("Bea@Example.org"), made=made)
    member = access_store.membership(store, made, "bea@example.org")
    assert member.role == "owner" and member.may_see_private
