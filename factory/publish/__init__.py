"""Publishing a generated dataset: its card, its push to the Hub, and a report of plots.

- ``facts``: everything the card and the report state, read from the stored rows;
- ``card``: ``DIR/README.md`` with Hub metadata and how the data was made;
- ``layout``: where the splits live in a Hub repository (both the card and the push use it);
- ``push``: Parquet splits and the card to a Hub dataset repo in one commit;
- ``report`` and ``svg``: one self-contained HTML page of inline SVG plots;
- ``steering``: what the card and the report say of seed code, personas, focus, judge, lineage.
"""
