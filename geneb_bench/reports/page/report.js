// report.html's behaviour: DataTables (inlined from the itables package, loaded as a module from a Blob so the
// page needs no network) makes every table sortable; the selects above each table filter it.
const source = document.getElementById("datatables-bundle");
if (source) {
  const url = URL.createObjectURL(new Blob([source.textContent], { type: "text/javascript" }));
  const { default: DataTable } = await import(url);
  URL.revokeObjectURL(url);
  const exact = (value) => (value === "" ? "" : "^" + DataTable.util.escapeRegex(value) + "$");

  for (const table of document.querySelectorAll("table.geneb")) {
    const names = [...table.tHead.rows[0].cells].map((cell) => cell.dataset.name || cell.textContent);
    const index = (name) => names.indexOf(name);
    const hidden = JSON.parse(table.dataset.hidden || "[]").map(index).filter((i) => i >= 0);
    const order = JSON.parse(table.dataset.order || "[]").map(([name, dir]) => [index(name), dir]);
    const fixed = table.dataset.fixed ? { pre: [[index(table.dataset.fixed), "asc"]] } : undefined;
    const dt = new DataTable(table, {
      paging: table.tBodies[0].rows.length > 100,
      pageLength: 50,
      order,
      orderFixed: fixed,
      autoWidth: false,
      columnDefs: [{ targets: hidden, visible: false }],
      layout: { topStart: null, topEnd: "search", bottomStart: "info", bottomEnd: "paging" },
    });
    const box = document.querySelector(`.filters[data-for="${table.id}"]`);
    if (!box) continue;
    box.hidden = false;
    const apply = () => {
      for (const select of box.querySelectorAll("select[data-column]")) {
        dt.column(index(select.dataset.column)).search(exact(select.value), true, false);
      }
      const show = box.querySelector("select[data-show]");
      if (show) {
        const choices = [...show.options].map((o) => o.value).filter((v) => v !== "");
        for (const name of choices) {
          const on = name === show.value;
          dt.column(index(name)).visible(on, false).search(on && show.dataset.require ? ".+" : "", true, false);
        }
        if (show.dataset.sort) dt.order(show.value === "" ? order : [index(show.value), show.dataset.sort]);
      }
      dt.draw();
      // a column such as "macro ±" shows only while some shown row has a value (seeds differ: few-shot)
      for (const name of JSON.parse(table.dataset.auto || "[]")) {
        const shown = dt.column(index(name), { search: "applied" }).data().toArray();
        dt.column(index(name)).visible(shown.some((v) => String(v).trim() !== ""), false);
      }
      dt.columns.adjust();
    };
    box.addEventListener("change", apply);
    apply();
  }
  document.body.dataset.ready = "datatables";
} else {
  document.body.dataset.ready = "static";
}
