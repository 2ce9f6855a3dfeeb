"""Hypothesis strategies the fuzz tests share."""

from hypothesis import strategies as st


def json_documents(scalars: st.SearchStrategy, *, key_size: int, max_leaves: int):
    """Any JSON document over ``scalars``: lists and objects of up to four members, nested."""
    return st.recursive(
        scalars,
        lambda inner: (
            st.lists(inner, max_size=4)
            | st.dictionaries(st.text(max_size=key_size), inner, max_size=4)
        ),
        max_leaves=max_leaves,
    )
