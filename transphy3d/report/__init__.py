"""``transphy3d report``: the data-quality figures of a render run as ``report.json`` and a
``report.html`` with plots and thumbnails, read from each scene's ``meta.json``."""
