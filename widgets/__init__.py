"""The cockpit's panels: one widget a file, each rendering a plain view.

Widgets import textual, rich and ``cockpit.model`` (incl. ``cockpit.model.views``)
only; the numbers come ready-made from ``cockpit.views``. Every panel has a
pure renderer testable without an App and a widget with ``show(view)``:

==================  ==========================  ===================================
module              widget                      renderer / view
==================  ==========================  ===================================
margin              MarginPanel                 render_margin(MarginView)
greeks              GreeksPanel                 render_greeks(GreeksView)
depth               DepthPanel                  render_depth(DepthView)
volatility          VolatilityPanel             render_vol(VolView)
status              StatusBar                   render_status(StatusView)
positions           PositionsPanel (DataTable)  position_rows / order_rows(PositionsView)
suggestions         SuggestionsPanel            suggestion_rows(SuggestionsView)
event_log           EventLog (RichLog)          render_entry(LogEntry); ``add(entry)``
help                HelpScreen.for_app(app)     render_help(keys)
confirm             ConfirmScreen(question)     ModalScreen[bool]
==================  ==========================  ===================================

Messages up (``widgets.messages``): InstrumentSelected, SuggestionSelected,
SuggestionApproved, SuggestionRejected, SuggestionRefused. Formatting rules
live in ``widgets.format``; colours come from the theme through ``widgets.palette``.

This package deliberately imports nothing at import time, so
``widgets.format`` stays cheap for ``cockpit.views``.
"""
