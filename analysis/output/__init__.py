"""Writing outputs safely: owned output folders swapped in atomically (:mod:`.atomic`) and
text made safe for spreadsheets and terminals (:mod:`.safe`).
"""
