// The fleet page's filter: every word typed must appear in a row's words (its host, verdicts and
// the ids of the checks that did not pass there; for a check across the fleet, its id, title and
// hosts), so one host or one failing check is found without scrolling. Trusted by its hash.
(() => {
  const box = document.getElementById("phx-filter");
  if (!box) return;
  const rows = Array.from(document.querySelectorAll("[data-phx-find]"));
  const said = document.getElementById("phx-filter-count");
  let timer = 0;
  const apply = () => {
    const words = box.value.toLowerCase().split(/\s+/).filter(Boolean);
    let hosts = 0;
    for (const row of rows) {
      const text = row.getAttribute("data-phx-find");
      const hit = words.every((word) => text.includes(word));
      row.hidden = !hit;
      if (hit && row.tagName === "TR" && row.classList.contains("host-row")) hosts += 1;
    }
    said.textContent = words.length ? hosts + " host(s) and " + rows.filter((r) => !r.hidden && r.classList.contains("spread-row")).length + " check(s) match" : "";
  };
  box.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(apply, 100);
  });
})();
