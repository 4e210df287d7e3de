"""The pure calculation core: the 2026 plan's rules, with no Excel, file, mail or network.

One module per rule: ``model`` (the typed plan and its 2026 defaults), ``splits`` (exact
target splits), ``checks`` (plan consistency), ``kpi`` (scores), ``bonus`` (the quarterly
bonus and the capped pool), ``awards`` (annual awards), ``watchlist`` (improvement periods),
``validate`` (input rules), ``engine`` (the pipeline over all of them) and ``statement`` (one
rep's figures explained line by line). ``money``, ``fmt`` and ``fmt_words`` hold exact
money and number wording.
"""
