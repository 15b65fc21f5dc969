"""The report page's stylesheet and script, inlined into ``index.html`` (nothing loads from the network)."""

STYLE = """
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto; max-width: 1200px;
       padding: 0.5em 1em 3em; color: #222; line-height: 1.4; }
header.banner { padding: 0.6em 1em; border-radius: 6px; margin: 0.8em 0; }
header.simulated { background: #fff3cd; border: 1px solid #e0c060; }
header.real { background: #e8f4ea; border: 1px solid #8bc49a; }
nav.toc { font-size: 0.9em; margin: 0.8em 0; }
nav.toc ol { margin: 0.2em 0; padding-left: 1.4em; columns: 2 16em; }
.table-wrap { max-width: 100%; }
table { border-collapse: collapse; font-size: 0.82em; width: 100%; table-layout: auto; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.4em; text-align: right; }
th { background: #f3f3f3; cursor: pointer; user-select: none; font-weight: 600; }
th[aria-sort="ascending"]::after { content: " \\25B2"; font-size: 0.7em; }
th[aria-sort="descending"]::after { content: " \\25BC"; font-size: 0.7em; }
td.text { text-align: left; }
tr.tied td { background: #fff8dc; }
tr.unranked td { color: #666; font-style: italic; }
figure { margin: 1.2em 0; }
figcaption { font-size: 0.9em; color: #555; max-width: 900px; }
img { max-width: 100%; height: auto; }
pre { background: #f7f7f7; padding: 1em; overflow-x: auto; font-size: 0.8em; }
.legend { font-size: 0.88em; color: #444; max-width: 1000px; }
.note { background: #fdecea; border-left: 4px solid #c0392b; padding: 0.4em 0.8em; max-width: 1000px; }
ul.files { columns: 2 22em; }
details.run summary { cursor: pointer; font-weight: 600; }
.heat-wrap { max-width: 100%; margin: 0.6em 0; overflow-x: auto; }
table.heat { width: auto; font-size: 0.78em; table-layout: auto; }
table.heat th, table.heat td { padding: 0.15em 0.3em; text-align: center; cursor: default; }
table.heat th.row { text-align: left; font-weight: normal; background: #fafafa; min-width: 7.5em;
                    word-break: keep-all; overflow-wrap: normal; }
table.heat th.vertical { writing-mode: vertical-rl; transform: rotate(180deg); text-align: left;
                         vertical-align: bottom; font-weight: normal; white-space: nowrap; }
table.heat th.group { font-weight: 600; word-break: keep-all; }
table.heat th.corner { font-weight: normal; color: #555; text-align: right; }
table.heat tr.ceiling th, table.heat tr.ceiling td { border-bottom: 2px solid #333; font-weight: 600; }
table.heat td.sig { font-weight: 700; }
table.heat .apart { font-style: italic; }
ul.significant { max-width: 1000px; }
@media (max-width: 1000px) {
  table .wide { display: none; }
  table { font-size: 0.75em; }
  table.heat { font-size: 0.68em; }
  table.heat th, table.heat td { padding: 0.1em 0.15em; }
}
"""


# Sort the leaderboard by a clicked column (numbers by value, text alphabetically).
SCRIPT = """
document.querySelectorAll("table.sortable").forEach(function (table) {
  table.querySelectorAll("th").forEach(function (th, col) {
    th.addEventListener("click", function () {
      var asc = th.getAttribute("aria-sort") !== "ascending";
      table.querySelectorAll("th").forEach(function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", asc ? "ascending" : "descending");
      var body = table.tBodies[0], rows = Array.from(body.rows);
      var key = function (r) { var t = r.cells[col].textContent.trim(), n = parseFloat(t);
        return isNaN(n) ? t.toLowerCase() : n; };
      rows.sort(function (a, b) { var x = key(a), y = key(b);
        if (typeof x !== typeof y) { return typeof x === "number" ? -1 : 1; }
        return (x < y ? -1 : x > y ? 1 : 0) * (asc ? 1 : -1); });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
});
"""
