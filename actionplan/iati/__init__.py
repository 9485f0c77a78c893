"""The plan's activities as IATI 2.03 open data.

``export`` builds the activity file of what may be published (never a restricted activity, only
approved figures); ``validation`` checks each activity against the official schema (``schema/``)
and ``rules`` against what the schema cannot express, before anything is served.
"""
