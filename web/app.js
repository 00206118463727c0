// The studio page: photos with a face preview, controls from /v1/options, one progress bar per job (server-sent
// events), and a gallery that fills as images finish. Talks only to the JSON API under /v1.
import { buildControls } from "./controls.js";

const $ = (id) => document.getElementById(id);
let controls;
let maxPhotos = 4;
let photos = [];

async function json(res) {
  try {
    return await res.json();
  } catch {
    return { error: `${res.status} ${res.statusText}`, field: null, issues: [] };
  }
}

/** Draws a photo with its faces: the chosen one green, others grey, landmarks as dots. */
async function drawPreview(canvas, file, found) {
  const bmp = await createImageBitmap(file);
  const scale = Math.min(1, 200 / Math.max(bmp.width, bmp.height));
  canvas.width = Math.round(bmp.width * scale);
  canvas.height = Math.round(bmp.height * scale);
  const g = canvas.getContext("2d");
  g.drawImage(bmp, 0, 0, canvas.width, canvas.height);
  if (!found) return;
  // Face coordinates are in the server's decoded image (long side capped), which may differ from the file's.
  const s = canvas.width / found.width;
  found.faces.forEach((f, i) => {
    g.strokeStyle = g.fillStyle = i === found.chosen ? "#1db954" : "#aaa";
    g.lineWidth = 2;
    const [x1, y1, x2, y2] = f.box;
    g.strokeRect(x1 * s, y1 * s, (x2 - x1) * s, (y2 - y1) * s);
    for (let k = 0; k < 10; k += 2) g.fillRect(f.kps[k] * s - 2, f.kps[k + 1] * s - 2, 4, 4);
  });
}

async function previewPhoto(file) {
  const canvas = document.createElement("canvas");
  const note = Object.assign(document.createElement("div"), { className: "preview-note muted", textContent: "looking for a face…" });
  const card = Object.assign(document.createElement("figure"), { className: "preview" });
  card.append(canvas, note);
  $("previews").append(card);
  const body = new FormData();
  body.append("id", file, file.name);
  const res = await fetch("/v1/faces", { method: "POST", body });
  const r = await json(res);
  if (res.ok) {
    note.textContent = `${r.faces.length} face${r.faces.length === 1 ? "" : "s"} found${r.faces.length > 1 ? ", the largest (green) is used" : ""}`;
    card.classList.add("has-face");
  } else {
    note.textContent = r.error;
    note.className = "preview-note error";
    card.classList.add("no-face");
  }
  await drawPreview(canvas, file, res.ok ? r : null).catch(() => undefined);
}

function onPhotos() {
  controls.clearErrors();
  photos = [...$("id-input").files];
  $("previews").replaceChildren();
  if (photos.length > maxPhotos) {
    $("err-id").textContent = `at most ${maxPhotos} ID photos, got ${photos.length}`;
    return;
  }
  photos.forEach((f) => void previewPhoto(f));
}

function addToGallery(record) {
  // Newest job first, its images in order.
  for (const img of [...record.images].reverse()) {
    if (document.querySelector(`[data-image="${img.id}"]`)) continue;
    const fig = document.createElement("figure");
    fig.dataset.image = img.id;
    const pic = Object.assign(document.createElement("img"), { src: img.url, alt: `seed ${img.seed}` });
    const link = Object.assign(document.createElement("a"), { href: img.url, download: `pulid_${img.seed}.png`, textContent: "PNG" });
    const cap = document.createElement("figcaption");
    cap.append(`seed ${img.seed} · `, link);
    fig.append(pic, cap);
    $("gallery").prepend(fig);
  }
}

function describe(r) {
  const p = r.progress;
  if (r.state === "running" && p) return `running: image ${p.image + 1}/${p.num}, step ${p.step}/${p.steps}`;
  if (r.state === "failed" || r.state === "cancelled") return `${r.state}: ${r.error}`;
  if (r.state === "done") return `done: ${r.images.length} image${r.images.length === 1 ? "" : "s"}${r.notes.length ? ` (${r.notes.join("; ")})` : ""}`;
  return r.state;
}

/** A job card with a progress bar, following the job's event stream until it is final. */
function followJob(id) {
  const li = document.createElement("li");
  li.dataset.job = id;
  const bar = Object.assign(document.createElement("progress"), { max: 1 });
  bar.setAttribute("value", "0");
  const text = Object.assign(document.createElement("span"), { className: "job-state", textContent: "queued" });
  const cancel = Object.assign(document.createElement("button"), { type: "button", textContent: "Cancel" });
  cancel.onclick = () => fetch(`/v1/jobs/${id}`, { method: "DELETE" });
  li.append(Object.assign(document.createElement("code"), { textContent: id }), bar, text, cancel);
  $("jobs").prepend(li);
  const es = new EventSource(`/v1/jobs/${id}/events`);
  es.addEventListener("job", (ev) => {
    const r = JSON.parse(ev.data);
    // setAttribute (not .value) so the change is visible in the DOM as well.
    bar.setAttribute("value", String(r.state === "done" ? 1 : (r.progress?.fraction ?? 0)));
    text.textContent = describe(r);
    li.dataset.state = r.state;
    if (r.state === "done") addToGallery(r);
    if (["done", "failed", "cancelled"].includes(r.state)) {
      cancel.remove();
      es.close();
    }
  });
  es.onerror = () => {
    if (!["done", "failed", "cancelled"].includes(li.dataset.state)) text.textContent = "connection lost; reload to see the job";
    es.close();
  };
}

async function submit(ev) {
  ev.preventDefault();
  controls.clearErrors();
  const { options, issues } = controls.read();
  if (issues.length) return controls.showErrors(issues);
  const body = new FormData();
  for (const f of photos) body.append("id", f, f.name);
  body.append("options", JSON.stringify(options));
  $("generate").disabled = true;
  try {
    const res = await fetch("/v1/generate", { method: "POST", body });
    const r = await json(res);
    if (res.status === 202) return followJob(r.id);
    const retry = res.headers.get("retry-after");
    controls.showErrors(r.issues?.length ? r.issues : [{ field: r.field ?? "form", message: retry ? `${r.error}` : r.error }]);
  } catch (e) {
    $("err-form").textContent = `the server did not answer: ${e.message}`;
  } finally {
    $("generate").disabled = false;
  }
}

async function main() {
  const doc = await (await fetch("/v1/options")).json();
  maxPhotos = doc.upload.maxPhotos;
  controls = buildControls($("controls"), doc.schema);
  const health = await (await fetch("/v1/health")).json();
  $("model-info").textContent = `PuLID ${doc.version} · models ${health.models} · ${health.queue.kind} queue`;
  $("id-input").addEventListener("change", onPhotos);
  $("form").addEventListener("submit", submit);
  const { jobs } = await (await fetch("/v1/jobs")).json();
  for (const r of jobs.reverse()) if (r.state === "done") addToGallery(r);
  document.body.dataset.ready = "true";
}

main().catch((e) => ($("err-form").textContent = `could not load the studio: ${e.message}`));
