"""The Streamlit side of participant voice: the participant form, the receipt check, the link switch,
the review queue and the ideas log. Every user string is shown as text (``safe_text``/dataframes)."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode, urlsplit

import pandas as pd
import streamlit as st

from coprod_map import voice_store
from coprod_map.components import COMPONENTS
from coprod_map.errors import EditRejected, Problem, StoreError
from coprod_map.model import AFFECTED_LEVELS, BASES, EXPERIENCES, INVOLVEMENT_LEVELS, KINDS, PREFER_NOT_TO_SAY
from coprod_map.participation_voice import (
    CONSENT_TEXT,
    IDEA_KINDS,
    IDEA_STATUSES,
    STATUSES,
    Submission,
    answers_table,
    current_cycle,
    duplicate_table,
    parse_emails,
)
from coprod_map.record import NEED_CATEGORIES, cycle_names
from coprod_map.store import ProjectInfo, acting_as
from coprod_map.ui.auth import actor, auth_configured, sign_in_buttons, signed_in_subject
from coprod_map.ui.state import store
from coprod_map.ui.widgets import safe_text, show_problems

__all__ = ["decided_panel", "ideas_log", "invitations_panel", "link_panel", "participant_form", "participant_page",
           "queue_panel", "receipt_check", "show_message"]

_RECEIPT_KEY = "voice_receipt"
_QUEUE_MESSAGE = "_voice_queue_message"
_NO_ANSWER = "(no answer)"


def _say(text: str) -> None:
    """Our own words or user words alike, shown literally."""
    st.markdown(safe_text(text))


def _show_form_problems(problems: list[Problem]) -> None:
    st.error("Please check these answers. Nothing has been saved yet.", icon=":material/error:")
    for problem in problems:
        where = f"{problem.column}: " if problem.column else ""
        st.markdown(f"- {safe_text(where + problem.message)}")


# --- the participant's side ------------------------------------------------------------------------

_NOT_INVITED = ("This link is for invited people. The email you signed in with is not on the list. If you "
                "think it should be, ask the person who sent you the link, or sign in with another account.")


def _participant_sign_in() -> None:
    st.title("Take part")
    st.write("This form is for invited people. Sign in to continue.")
    sign_in_buttons(key_prefix="voice_")


def participant_page(token: str) -> None:
    """The whole participant page: the form (or a thank-you with the receipt), then the receipt check.

    With sign-in set up, a signed-out person sees only the sign-in button, and a signed-in person who is not
    on the link's invitation list sees only that the link is for invited people: nothing of the project.
    """
    invitee: str | None = None
    if auth_configured():
        invitee = signed_in_subject()
        if invitee is None:
            _participant_sign_in()
            return
        try:
            invited = voice_store.is_invited(store(), token, invitee)
        except voice_store.LinkClosed:
            invited = None
        if invited is False:
            st.title("Take part")
            st.info(_NOT_INVITED)
            st.button("Sign out", on_click=st.logout, key="voice_sign_out")
            return
    try:
        ctx = voice_store.form_context(store(), token)
    except voice_store.LinkClosed:
        st.title("Take part")
        st.info("This link is not open at the moment.")
        return
    st.title("Take part")
    st.text(f"Project: {ctx.project_name}")
    receipt = st.session_state.get(_RECEIPT_KEY)
    if receipt:
        st.success("Thank you. Your answers have been sent to the project's facilitators.", icon=":material/check:")
        _say("Your receipt code is below. Keep it: with it you can come back to this page and see what happened "
             "to what you said.")
        st.code(receipt, language=None)
        if st.button("Fill in the form again"):
            st.session_state.pop(_RECEIPT_KEY, None)
            st.rerun()
    else:
        participant_form(ctx, token, invitee=invitee)
    st.divider()
    receipt_check(token)


def participant_form(ctx: voice_store.FormContext, token: str, *, invitee: str | None = None) -> None:
    """The form itself. ``invitee``: the signed-in, invited email (sign-in set up); the person may choose to
    send it with their answers, and it is sent only then."""
    settings = ctx.settings
    _say("This short form asks about you, who you work with, and your ideas. Every question apart from your "
         "name can be left blank. It takes about five minutes.")
    with st.form("voice_form", clear_on_submit=False, enter_to_submit=False):
        st.subheader("Before you start")
        _say(CONSENT_TEXT)
        consent = st.checkbox("I agree to you keeping my answers as described above", key="voice_consent")
        share_email = False
        if invitee:
            share_email = st.checkbox(f"Also send the email I signed in with ({safe_text(invitee)}), so the "
                                      "facilitators can contact me. Leave this unticked to send your answers without it.",
                                      key="voice_share_email", value=False)

        st.subheader("About you")
        name = st.text_input("Your name, or a made-up name", max_chars=200, key="voice_name",
                             help="A made-up name (a pseudonym) is fine.")
        kind = st.radio("I am filling this in for", list(KINDS), key="voice_kind",
                        format_func=lambda k: {"person": "Myself"}.get(k, f"A {KINDS[k].lower()} I represent"))
        groups = st.text_area("Groups or communities you belong to (one on each line)", key="voice_groups",
                              help="For example: carers, young people, tenants of Brook Street.")
        experience = st.multiselect("What kind of experience do you bring?", list(EXPERIENCES), key="voice_experience",
                                    format_func=lambda c: EXPERIENCES[c], placeholder="Choose any that fit")
        speaks_for = st.text_area("Groups you may speak for (one on each line)", key="voice_speaks_for",
                                  help="Only groups that have asked or agreed that you speak for them, "
                                  "or whose experience you share.")
        basis = st.selectbox("On what basis do you speak for them?", ["", *BASES], key="voice_basis",
                             format_func=lambda c: BASES.get(c, _NO_ANSWER))
        affected = st.radio("How much does this work affect you?", [None, *AFFECTED_LEVELS], key="voice_affected",
                            format_func=lambda c: _NO_ANSWER if c is None else AFFECTED_LEVELS[c])

        attributes: dict[str, str] = {}
        if settings.attributes:
            st.subheader("About you: optional questions")
            _say("These help us see whether everyone affected has a say. Answer only if you want to.")
            for i, (attribute, categories) in enumerate(settings.attributes.items()):
                options = ["", *[c for c in categories if c != PREFER_NOT_TO_SAY], PREFER_NOT_TO_SAY]
                attributes[attribute] = st.selectbox(safe_text(attribute), options, key=f"voice_attr_{i}",
                                                     format_func=lambda c: c or _NO_ANSWER)

        st.subheader("Access and support")
        _say("Is there anything you need so you can take part? Only the facilitators see this.")
        needs = st.text_area("What would help you take part", key="voice_needs",
                             help="For example: step-free access, large print, meetings after 6pm, an interpreter.")
        need_category = st.selectbox("What is it mostly about?", ["", *NEED_CATEGORIES], key="voice_need_category",
                                     format_func=lambda c: NEED_CATEGORIES.get(c, _NO_ANSWER))

        st.subheader("Who you work with")
        names = dict(zip(ctx.offered["id"], ctx.offered["name"], strict=True))
        ties: dict[str, list[str]] = {}
        for kind_key, question in (("works_with", "Who do you work with?"),
                                   ("turns_to", "Who do you turn to for help or advice?")):
            ties[kind_key] = st.multiselect(question, list(names), key=f"voice_ties_{kind_key}",
                                            format_func=lambda i: names.get(i, i), placeholder="Type to find a name")
        others = st.text_area("Anyone else, not in the lists (one on each line)", key="voice_others")

        st.subheader("Your strengths and ideas")
        strengths = st.text_area("What are you good at, or what could you bring?", key="voice_strengths")
        ideas = st.text_area("Your ideas (leave a blank line between ideas)", key="voice_ideas")
        questions = st.text_area("What should we be asking that we aren't?", key="voice_questions")
        name_on_ideas = st.checkbox("Put my name next to my ideas and questions (otherwise they are anonymous)",
                                    key="voice_name_on_ideas")

        cycles = cycle_names(settings)
        scores: dict[str, int] = {}
        cycle = current_cycle(settings, today=date.today().isoformat()) if cycles else ""
        if cycle:
            st.subheader("How is the work going?")
            _say(f"Optional and anonymous. For this stage of the work ({cycle}), how true is each of these? "
                 "1 means not at all, 5 means fully.")
            for component in COMPONENTS:
                value = st.radio(f"{component.name}: {component.summary}", [None, 1, 2, 3, 4, 5], horizontal=True,
                                 key=f"voice_score_{component.key}",
                                 format_func=lambda v: _NO_ANSWER if v is None else str(v))
                if value is not None:
                    scores[component.key] = int(value)
        sent = st.form_submit_button("Send my answers", type="primary")
    if not sent:
        return
    sub = Submission(
        consent=bool(consent), name=name, kind=kind, groups=_lines(groups), experience=list(experience),
        speaks_for=_lines(speaks_for), speaks_basis=basis, affected=affected,
        attributes={k: v for k, v in attributes.items() if v}, needs=needs.strip(),
        need_category=need_category if needs.strip() else "",
        ties={k: v for k, v in ties.items() if v}, other_contacts=others.strip(), strengths=strengths.strip(),
        ideas=ideas, questions=questions, name_on_ideas=bool(name_on_ideas), cycle=cycle, scores=scores,
        email=invitee if (invitee and consent and share_email) else "",
    )
    try:
        receipt = voice_store.submit(store(), token, sub, invitee=invitee)
    except voice_store.LinkClosed:
        st.error("This link is not open at the moment, so nothing was saved.")
        return
    except voice_store.NotInvited:
        st.error("This link is for invited people only, so nothing was saved.")
        return
    except EditRejected as error:
        _show_form_problems(error.problems)
        return
    except StoreError:
        st.error("Your answers could not be saved just now. Please try again in a few minutes.")
        return
    st.session_state[_RECEIPT_KEY] = receipt
    st.rerun()


def _lines(text: str) -> list[str]:
    return [line.strip() for line in str(text or "").replace(",", "\n").splitlines() if line.strip()]


def receipt_check(token: str) -> None:
    """"Check my answers": what happened to a submission, found by its receipt code."""
    st.subheader("Check what happened to your answers")
    with st.form("voice_check", enter_to_submit=True):
        code = st.text_input("Your receipt code", key="voice_check_code", help="For example: K7QM-2XPA-9DHT")
        asked = st.form_submit_button("Check")
    if not asked:
        return
    try:
        view = voice_store.receipt_view(store(), token, code)
    except voice_store.LinkClosed:
        st.info("This link is not open at the moment.")
        return
    if view is None:
        st.warning("No answers have that receipt code. Check the code and try again.")
        return
    st.info(f"{view['status_words']}.", icon=":material/info:")
    _say(f"Sent on {view['submitted_at']}." + (f" Looked at on {view['decided_at']}." if view["decided_at"] else ""))
    if view["outcome"]:
        _say(f"A note from the facilitators: {view['outcome']}")
    if len(view["ideas"]):
        st.dataframe(view["ideas"], hide_index=True, width="stretch")


# --- the facilitator's side ------------------------------------------------------------------------

def _app_base() -> str:
    try:
        url = st.context.url or ""
    except Exception:  # noqa: BLE001 - outside a browser session (tests) there is no URL
        url = ""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/" if parts.scheme and parts.netloc else "/"


def link_panel(info: ProjectInfo, people: pd.DataFrame) -> None:
    """The participant link: on/off, the link itself, a new link, and the people the form may name."""
    db = store()
    link = voice_store.link_for(db, info.id)
    st.subheader("The participant link")
    _say("Anyone with this link can fill in the participant form while it is switched on. "
         "They see only the form, never the map or the other pages.")
    enabled = st.toggle("Participant link switched on", value=bool(link and link.enabled), key=f"voice_link_{info.id}")
    if enabled != bool(link and link.enabled):
        with acting_as(actor()):
            link = voice_store.set_link_enabled(db, info.id, enabled)
        st.rerun()
    if link:
        st.code(_app_base() + "?" + urlencode({"join": link.token}), language=None)
        st.caption("On" if link.enabled else "Off: the link shows 'This link is not open at the moment'.")
        if st.button("Make a new link (the old one stops working)", key="voice_regenerate"):
            with acting_as(actor()):
                voice_store.regenerate_link(db, info.id)
            st.rerun()
    persons = people.loc[people["kind"] == "person"]
    labels = dict(zip(persons["id"], persons["name"], strict=True))
    with st.form(f"voice_people_{info.id}_{info.revision}"):
        _say("The form offers the names of groups, organisations and community assets on the map. Showing a "
             "person's name tells whoever opens the link that they are on the map, so people are offered only "
             "if you choose them here (with their agreement).")
        chosen = st.multiselect("People whose names the form may offer", list(labels),
                                default=[p for p in (link.people_ok if link else ()) if p in labels],
                                format_func=lambda i: f"{labels.get(i, i)} ({i})")
        if st.form_submit_button("Save the list of names"):
            try:
                with acting_as(actor()):
                    voice_store.set_people_ok(db, info.id, list(chosen))
                st.session_state[_QUEUE_MESSAGE] = ("saved", "The list of names was saved.")
            except EditRejected as error:
                st.session_state[_QUEUE_MESSAGE] = ("problems", error.problems)
            st.rerun()


def invitations_panel(info: ProjectInfo) -> None:
    """Who may use the participant link when sign-in is set up: add emails, take invitations back."""
    db = store()
    link = voice_store.link_for(db, info.id)
    invited = list(link.invited) if link else []
    st.subheader(f"Invited people ({len(invited)})")
    if auth_configured():
        _say("Sign-in is set up, so the participant form opens only for people who sign in with one of these "
             "emails. Anyone else sees that the link is for invited people, and nothing of the project.")
    else:
        _say("Sign-in is not set up, so this list is not used: anyone with the link can fill in the form. "
             "You can still prepare the list now.")
    with st.form(f"voice_invite_{info.id}_{info.revision}"):
        text = st.text_area("Emails to invite (one on each line)", key=f"voice_invite_emails_{info.revision}",
                            help="Use the email each person signs in with.")
        if st.form_submit_button("Invite"):
            emails, problems = parse_emails(text)
            if problems:
                st.session_state[_QUEUE_MESSAGE] = ("problems", problems)
            elif not emails:
                st.session_state[_QUEUE_MESSAGE] = ("error", "No email was given, so nobody was invited.")
            else:
                try:
                    with acting_as(actor()):
                        voice_store.change_invitations(db, info.id, add=emails)
                    st.session_state[_QUEUE_MESSAGE] = ("saved", f"Invited {len(emails)} "
                                                        f"{'person' if len(emails) == 1 else 'people'}.")
                except EditRejected as error:
                    st.session_state[_QUEUE_MESSAGE] = ("problems", error.problems)
            st.rerun()
    if not invited:
        return
    st.dataframe(pd.DataFrame({"email": invited}), hide_index=True, width="stretch")
    with st.form(f"voice_uninvite_{info.id}_{info.revision}"):
        chosen = st.multiselect("Take back invitations", invited, key=f"voice_uninvite_{info.revision}",
                                placeholder="Choose emails")
        if st.form_submit_button("Take back the chosen invitations"):
            if chosen:
                with acting_as(actor()):
                    voice_store.change_invitations(db, info.id, remove=list(chosen))
                st.session_state[_QUEUE_MESSAGE] = ("saved", f"Took back {len(chosen)} "
                                                    f"{'invitation' if len(chosen) == 1 else 'invitations'}.")
            st.rerun()


def show_message() -> None:
    """The outcome of the last action on the facilitators' page (saved, problems or an error)."""
    message = st.session_state.pop(_QUEUE_MESSAGE, None)
    if not message:
        return
    kind, body = message
    if kind == "problems":
        show_problems(body)
    elif kind == "error":
        st.error(safe_text(body))
    else:
        st.success(safe_text(body), icon=":material/check_circle:")


def _decide(info: ProjectInfo, submission_id: str, action: str, target: str, involvement: str, note: str) -> None:
    db = store()
    try:
        if db.revision(info.id) != info.revision:
            st.session_state[_QUEUE_MESSAGE] = ("error", "The project changed a moment ago (perhaps a new submission), "
                                                "so nothing was done. Please look again and confirm.")
            return
        with acting_as(actor()):  # the audit trail names the signed-in person
            if action == "accept":
                _, new_id = voice_store.accept(db, info.id, submission_id, involvement=involvement, outcome=note)
                text = f"Submission {submission_id} was added to the map as {new_id}."
            elif action == "merge":
                _, notes = voice_store.merge(db, info.id, submission_id, target, outcome=note)
                text = f"Submission {submission_id} was added to {target}. " + " ".join(notes)
            else:
                voice_store.decline(db, info.id, submission_id, outcome=note)
                text = f"Submission {submission_id} was declined. The map was not changed."
        st.session_state[_QUEUE_MESSAGE] = ("saved", text)
    except EditRejected as error:
        st.session_state[_QUEUE_MESSAGE] = ("problems", error.problems)
    except StoreError as error:
        st.session_state[_QUEUE_MESSAGE] = ("error", f"Nothing was saved: {error}")


_ACTIONS = {"accept": "Add to the map as someone new", "merge": "Add to someone already on the map",
            "decline": "Decline (the map stays as it is)"}


def queue_panel(info: ProjectInfo, people: pd.DataFrame, *, show_private: bool) -> pd.DataFrame:
    """Pending submissions beside the map, possible duplicates first; returns every submission."""
    subs = voice_store.submissions(store(), info.id)
    pending = subs.loc[subs["status"] == "pending"] if len(subs) else subs
    st.subheader(f"Waiting for review ({len(pending)})")
    if not len(pending):
        _say("Nothing is waiting. New answers from the participant form appear here.")
        return subs
    dupes = duplicate_table(subs, people).set_index("submission_id")
    overview = pd.DataFrame({
        "id": pending["id"], "name": pending["name"], "sent": pending["submitted_at"].str[:10],
        "possible duplicates": [dupes.loc[i, "matches"] for i in pending["id"]],
    })
    st.caption("Possible duplicates are names that look alike after case, accents, punctuation, titles and word "
               "order are set aside. Check before adding someone new.")
    st.dataframe(overview, hide_index=True, width="stretch",
                 column_config={"possible duplicates": st.column_config.TextColumn("Possible duplicates", width="large")})
    names = dict(zip(people["id"], people["name"], strict=True))
    for sid, answers in zip(pending["id"], pending["answers"], strict=True):
        sub = Submission.from_dict(answers)
        flagged = bool(dupes.loc[sid, "matches"])
        with st.expander(f"{sid}: {sub.name[:60]}" + (" (possible duplicate)" if flagged else ""), expanded=flagged):
            left, right = st.columns(2)
            with left:
                st.dataframe(answers_table(sub, names=names, show_private=show_private), hide_index=True,
                             width="stretch")
            with right:
                st.caption("Beside the map: the entries this may duplicate")
                best = dupes.loc[sid, "best_id"]
                near = people.loc[people["name"].map(lambda n, s=sub.name: _close(n, s))] if len(people) else people
                st.dataframe(near[["id", "name", "kind"]], hide_index=True, width="stretch")
            with st.form(f"voice_decide_{sid}_{info.revision}"):
                action = st.radio("What to do", list(_ACTIONS), format_func=_ACTIONS.get,
                                  index=1 if best else 0, key=f"voice_action_{sid}")
                ids = list(names)
                target = st.selectbox("Add to (only for 'someone already on the map')", ids,
                                      index=ids.index(best) if best in ids else 0, key=f"voice_target_{sid}",
                                      format_func=lambda i: f"{names.get(i, i)} ({i})")
                involvement = st.selectbox("Involvement level for someone new", list(INVOLVEMENT_LEVELS),
                                           index=list(INVOLVEMENT_LEVELS).index("consulted"), key=f"voice_inv_{sid}",
                                           format_func=INVOLVEMENT_LEVELS.get)
                note = st.text_area("A note the person will see with their receipt code (optional)",
                                    key=f"voice_note_{sid}", max_chars=2000)
                if st.form_submit_button("Confirm"):
                    _decide(info, sid, action, target, involvement, note)
                    st.rerun()
    return subs


def _close(name: Any, other: str) -> bool:
    from coprod_map.participation_voice import name_similarity

    return name_similarity(str(name), other) >= 0.8


def decided_panel(info: ProjectInfo, subs: pd.DataFrame) -> None:
    done = subs.loc[subs["status"] != "pending"] if len(subs) else subs
    st.subheader(f"Already decided ({len(done)})")
    if not len(done):
        return
    st.dataframe(pd.DataFrame({
        "id": done["id"], "name": done["name"], "what happened": done["status"].map(STATUSES),
        "on the map as": done["stakeholder_id"], "decided": done["decided_at"].str[:10], "note": done["outcome"],
    }), hide_index=True, width="stretch")
    with st.form(f"voice_withdraw_{info.revision}"):
        _say("If someone asks for their answers to be taken out, remove them here, for good. An entry already "
             "added to the map stays: remove it on the Stakeholders and ties page.")
        chosen = st.selectbox("Submission to remove", list(subs["id"]), key="voice_withdraw_id")
        if st.form_submit_button("Remove this submission and its ideas"):
            try:
                with acting_as(actor()):
                    voice_store.withdraw(store(), info.id, chosen)
                st.session_state[_QUEUE_MESSAGE] = ("saved", f"Submission {chosen} was removed.")
            except EditRejected as error:
                st.session_state[_QUEUE_MESSAGE] = ("problems", error.problems)
            st.rerun()


def ideas_log(info: ProjectInfo, decisions: pd.DataFrame, actions: pd.DataFrame) -> None:
    """The ideas and questions log as an editable table, saved with one button."""
    st.subheader("Ideas and questions log")
    _say("Every idea and question people raised, who raised it (blank = anonymous), where it stands, and the "
         "decision or action it led to. Add rows for ideas raised elsewhere; leave the id blank.")
    log = voice_store.ideas(store(), info.id)
    cc = st.column_config
    decision_words = {"": "", **{d: f"{d}: {t}" for d, t in zip(decisions["id"], decisions["title"], strict=True)}}
    action_words = {"": "", **{a: f"{a}: {t}" for a, t in zip(actions["id"], actions["title"], strict=True)}}
    with st.form(f"voice_ideas_{info.id}_{info.revision}"):
        edited = st.data_editor(
            log, key=f"voice_ideas_editor_{info.revision}", num_rows="dynamic", hide_index=True, width="stretch",
            disabled=["submission_id", "raised_on"],
            column_config={
                "id": cc.TextColumn("ID", help="Left blank, one is made for you."),
                "submission_id": cc.TextColumn("From submission"),
                "kind": cc.SelectboxColumn("Kind", options=list(IDEA_KINDS), format_func=IDEA_KINDS.get, default="idea"),
                "text": cc.TextColumn("Idea or question", width="large", required=True),
                "raised_by": cc.TextColumn("Raised by", help="Blank means anonymous."),
                "status": cc.SelectboxColumn("Status", options=list(IDEA_STATUSES), format_func=IDEA_STATUSES.get,
                                             default="new"),
                "decision_id": cc.SelectboxColumn("Led to decision", options=list(decision_words),
                                                  format_func=lambda d: decision_words.get(d, d)),
                "action_id": cc.SelectboxColumn("Led to action", options=list(action_words),
                                                format_func=lambda a: action_words.get(a, a)),
                "response": cc.TextColumn("What happened (the person sees this)", width="large"),
                "raised_on": cc.TextColumn("Raised on"),
            },
        )
        saved = st.form_submit_button("Save the log")
    if saved:
        deletes = [i for i in log["id"] if i not in set(edited["id"].astype(str))]
        try:
            with acting_as(actor()):
                voice_store.apply_idea_edits(store(), info.id, upserts=edited, deletes=deletes)
            st.session_state[_QUEUE_MESSAGE] = ("saved", "The ideas and questions log was saved.")
        except EditRejected as error:
            st.session_state[_QUEUE_MESSAGE] = ("problems", error.problems)
        st.rerun()
