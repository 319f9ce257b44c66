"""About co-production: what it is, the ten components in our own words, and what coprod_map offers."""

import streamlit as st

from coprod_map.components import COMPONENTS
from coprod_map.ui.auth import guard

guard(needs_project=False)

st.title("About co-production")
st.write(
    "Co-production means people who use a service, people who work in it and people from the wider "
    "community shaping it together, as equals, from the first question to the last decision. It is more "
    "than asking people what they think: power, knowledge and the work itself are shared."
)
st.write(
    "coprod_map supports that work. It helps you map everyone the work affects and the ties between "
    "them, check honestly who is taking part and who is missing, keep a record of decisions and what "
    "came of them, and share what you find in a form everyone can read."
)

st.header("The ten components of co-production")
st.caption("Based on Co-Create's ten components of co-production. The descriptions are coprod_map's own words.")

for item in COMPONENTS:
    with st.container(border=True):
        st.subheader(item.name)
        st.write(item.summary)
        st.markdown("\n".join(f"- {point}" for point in item.in_practice))
        st.write(f"**What coprod_map offers:** {item.in_coprod_map}")

st.caption(
    "Six components keep Co-Create's names (Equal, Inclusive, Open, Human, Transparent, Action focused); "
    "the other four are named here by their themes. coprod_map is not affiliated with Co-Create."
)
