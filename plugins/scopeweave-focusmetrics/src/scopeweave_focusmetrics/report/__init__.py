"""Products of frame QC: the CSV / JSON tables, PNG figures and the HTML report."""
