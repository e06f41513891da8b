// The board's only script: countdowns that tick every second, and rows refreshed in place.
// Times left are measured from the server's instant (data-now), so a replayed clock counts
// down the same way as the real one.
"use strict";

function left(ms) {
  if (ms <= 0) return "breached";
  const s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60), sec = s % 60;
  const pad = (n) => String(n).padStart(2, "0");
  return (d ? d + " d " : "") + (d || h ? h + " h " : "") + pad(m) + " min " + pad(sec) + " s";
}

let serverNow = 0, loadedAt = 0;

function anchor() {
  const holder = document.querySelector("[data-now]");
  serverNow = holder ? Number(holder.dataset.now) : Date.now();
  loadedAt = Date.now();
}

function tick() {
  const now = serverNow + (Date.now() - loadedAt);
  for (const el of document.querySelectorAll(".countdown[data-deadline]")) {
    const ms = Number(el.dataset.deadline) - now;
    el.textContent = left(ms);
    el.classList.toggle("late", ms <= 0);
  }
}

async function refresh(table) {
  try {
    const answer = await fetch(table.dataset.rows, { credentials: "same-origin" });
    if (!answer.ok) return;
    const holder = document.createElement("table");
    holder.innerHTML = await answer.text();
    const fresh = holder.querySelector("tbody");
    if (fresh) {
      document.getElementById("board-rows").replaceWith(fresh);
      anchor();
      tick();
    }
  } catch (error) {
    // offline for a moment: the next refresh tries again
  }
}

document.addEventListener("DOMContentLoaded", () => {
  anchor();
  tick();
  setInterval(tick, 1000);
  const table = document.getElementById("board");
  if (table) setInterval(() => refresh(table), 1000 * Number(table.dataset.refresh || 10));
});
