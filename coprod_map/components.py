"""The ten components of co-production, in our own words.

The framework is Co-Create's ("the components of co-production"); the wording here is ours. Six
components carry Co-Create's names; the other four are named by their themes. Each entry says what
the component asks for and what coprod_map offers towards it, so the About page, the health check
and the report all speak with one voice.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["COMPONENTS", "CREDIT", "Component", "component"]

CREDIT = (
    "The ten components of co-production are Co-Create's. The descriptions here are coprod_map's own "
    "words; coprod_map is not affiliated with Co-Create."
)


@dataclass(frozen=True)
class Component:
    key: str
    name: str
    named_by_cocreate: bool  # False: named here by its theme
    summary: str
    in_practice: tuple[str, ...]
    in_coprod_map: str


COMPONENTS: tuple[Component, ...] = (
    Component(
        "equal",
        "Equal",
        True,
        "Everyone's knowledge counts the same, whatever their job title or role.",
        (
            "Lived, learned, work and personal experience all shape the work.",
            "Differences in power are named and tackled, not ignored.",
            "People who give their time and knowledge get something back.",
            "Everyone is treated with care and respect.",
        ),
        "Records the kinds of experience each person brings, their influence, who took part in each "
        "decision, and what each person gave and got back.",
    ),
    Component(
        "inclusive",
        "Inclusive",
        True,
        "We go out of our way to bring a wide range of people in, and help them feel they belong.",
        (
            "Map everyone who could be affected and who ought to be involved.",
            "Think about how far one person can speak for a wider group.",
            "Check regularly who is taking part, and act when some people are missing.",
            "Ask people what they need instead of guessing.",
        ),
        "Compares who is affected with who is involved, group by group and over time, lists who is "
        "missing and the groups only spoken for by proxies, and keeps each person's stated needs.",
    ),
    Component(
        "open",
        "Open",
        True,
        "The answers come out of working together; they are not decided in advance.",
        (
            "Explore problems together instead of arriving with a fix.",
            "Stay curious and open-minded.",
            "Accept uncertainty and trust the process.",
            "Expect things to look messy before they make sense.",
        ),
        "Shows uncertainty honestly (intervals, small numbers held back), keeps the early, messy map, "
        "and prescribes no answers.",
    ),
    Component(
        "human",
        "Human",
        True,
        "Barriers come down so that people can meet as people, not just as roles.",
        (
            "Room to bring more of yourself than your label or job.",
            "Feeling safe enough to take part honestly.",
            "Relationships that last beyond the project.",
            "Feelings are welcome.",
        ),
        "Maps informal ties as well as formal ones, shows which relationships form and last, and keeps "
        "personal details private by default.",
    ),
    Component(
        "transparent",
        "Transparent",
        True,
        "Everyone can see what is going on, and who is accountable for what.",
        (
            "Everyone hears the same about the purpose, the process and the plan.",
            "Everyone knows what is open to change and what is not.",
            "Decisions, their reasons and who made them are written down for all to see.",
            "People are told what came of their input, even before plans are final.",
        ),
        "Keeps a decision log with reasons and who took part, a register of what can and can't change, "
        "and a report that closes the loop with the steering group and the community.",
    ),
    Component(
        "action_focused",
        "Action focused",
        True,
        "The work changes something real that people can notice.",
        (
            "The change is real and visible.",
            "Everyone agrees together what \"good\" and \"done\" mean.",
            "Enough time, money and permission are in place before starting.",
        ),
        "Ties each review cycle to an agreed picture of good and done, and turns gaps into actions with "
        "owners and dates.",
    ),
    Component(
        "creative",
        "Creative (everyone can shape new ideas)",
        False,
        "Everyone can help invent new solutions when the conditions are right.",
        (
            "Every person is seen as capable of creativity.",
            "Unexpected, awkward or costly ideas are still heard.",
            "Anyone can reframe the questions being asked.",
            "Facilitators ask what they should be asking and aren't.",
        ),
        "Gives ideas and reframed questions a place in the record, with who raised them and what "
        "they led to.",
    ),
    Component(
        "appreciative",
        "Appreciative (building on strengths)",
        False,
        "The work starts from what already goes well and builds on it.",
        (
            "Problems are not hidden, but the focus is on strengths and what could be even better.",
            "Every person, service and organisation has strengths worth recognising.",
            "Taking part is a good experience.",
        ),
        "Records the strengths people and community assets bring, alongside the gaps.",
    ),
    Component(
        "in_context",
        "In context (part of the wider community)",
        False,
        "The work is part of the community around it, not a project on its own.",
        (
            "The wider community takes part, not only professionals and people who use the service.",
            "What the community already has is supported and built on.",
            "New ideas are taken forward with the community.",
            "Plans look beyond the end of this piece of work.",
        ),
        "Maps community assets, groups and organisations beside people, and shows the ties that link "
        "the work to them.",
    ),
    Component(
        "learning_cycles",
        "Learning in cycles",
        False,
        "Progress comes from trying, learning and improving in rounds, not from getting it right first time.",
        (
            "Each stage is reflected on and changes follow.",
            "All learning is welcome, and changing course is a good thing.",
            "Steps are small and planned together from what is there now.",
        ),
        "Organises the work into review cycles that keep a snapshot of the figures, the reflections, "
        "the lessons and the actions, so each cycle can be compared with the last.",
    ),
)


def component(key: str) -> Component:
    """The component with this key."""
    for item in COMPONENTS:
        if item.key == key:
            return item
    raise KeyError(key)
