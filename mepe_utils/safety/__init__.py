"""The safety layer between a person and MEPE's replies.

Two checks, both in :class:`~mepe_utils.pipeline.MepePipeline` so that every front end
(``mepe demo``, ``mepe analyze``, the notebooks) goes through them:

1. :mod:`~mepe_utils.safety.crisis`: crisis language in the person's words (suicide,
   self-harm, harm to others, abuse happening now). When it fires, nothing is generated;
   the person gets the fixed message of :mod:`~mepe_utils.safety.messages`.
2. :mod:`~mepe_utils.safety.screen`: every generated reply is screened (empty or
   degenerate text, blame, dismissal, mockery, profanity, unsafe advice) before it is shown;
   a failing reply is written again, then replaced by a human reply from the retrieval
   index, then by a neutral supportive line.

Both are written rules, listed in their modules and measured by ``mepe bench-safety`` on
the check sets in ``tests/data/safety_*.csv``. They catch what their patterns name and no
more: they are a floor, not a clinical assessment.
"""
