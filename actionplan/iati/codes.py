"""Values of IATI's 2.03 code lists that the export writes and the rules read, named once for both."""

from decimal import Decimal

# ActivityDateType.
PLANNED_START, ACTUAL_START, PLANNED_END, ACTUAL_END = "1", "2", "3", "4"
# SectorVocabulary 1: OECD DAC CRS purpose codes, 5 digits (settings.IATI_SECTORS); a sector given without a
# vocabulary is one of these.
DAC_5_DIGIT = "1"
# What the percentages of recipient countries and regions, and of sectors, share out.
HUNDRED = Decimal(100)
