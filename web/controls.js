// The generation controls, built from GET /v1/options (JSON Schema derived from the server's one options
// schema): the page holds no option names, ranges or defaults of its own.

/** Options shown first (the official v1 demo's controls); the rest go under "Advanced". */
const MAIN = ["prompt", "negativePrompt", "cfg", "num", "seed", "steps", "width", "height", "idScale", "mode", "idMix"];

const el = (tag, props = {}, children = []) => {
  const e = Object.assign(document.createElement(tag), props);
  for (const c of children) e.append(c);
  return e;
};

function inputFor(name, p) {
  if (p.enum) {
    const s = el("select", { id: `opt-${name}` });
    for (const v of p.enum) s.append(el("option", { value: v, textContent: v, selected: v === p.default }));
    return s;
  }
  if (p.type === "boolean") return el("input", { id: `opt-${name}`, type: "checkbox", checked: p.default === true });
  if (p.type === "string") return el("textarea", { id: `opt-${name}`, rows: name === "prompt" ? 2 : 3, value: p.default ?? "" });
  const i = el("input", { id: `opt-${name}`, type: "number" });
  if (p.minimum !== undefined) i.min = String(p.minimum);
  if (p.maximum !== undefined) i.max = String(p.maximum);
  i.step = p.multipleOf ? String(p.multipleOf) : p.type === "integer" ? "1" : "any";
  if (p.default !== undefined) i.value = String(p.default);
  else i.placeholder = p["x-default-text"] ?? "";
  return i;
}

/**
 * Builds one labelled control per schema property into `container`.
 * @returns read(): the options object to send (empty inputs left out, so the server's defaults apply), and
 *   showErrors(issues) / clearErrors(), which put each message next to its control.
 */
export function buildControls(container, schema) {
  const props = schema.properties;
  const names = [...MAIN.filter((n) => props[n]), ...Object.keys(props).filter((n) => !MAIN.includes(n))];
  const advanced = el("details", {}, [el("summary", { textContent: "Advanced" })]);
  const inputs = new Map();
  for (const name of names) {
    const p = props[name];
    const input = inputFor(name, p);
    inputs.set(name, input);
    const label = el("label", { htmlFor: input.id }, [name, " ", el("span", { className: "muted", textContent: `(${p["x-range"]})` })]);
    const field = el("div", { className: `field field-${p.type}` }, [label, input, el("div", { className: "help muted", textContent: p.description ?? "" }), el("div", { className: "error", id: `err-${name}`, role: "alert" })]);
    field.dataset.field = name;
    (MAIN.includes(name) ? container : advanced).append(field);
  }
  container.append(advanced);

  return {
    read() {
      const out = {};
      const local = [];
      for (const [name, input] of inputs) {
        const p = props[name];
        if (p.type === "boolean") out[name] = input.checked;
        else if (p.type === "integer" || p.type === "number") {
          if (input.validity.badInput) local.push({ field: name, message: `${name} must be ${p["x-range"]}` });
          else if (input.value.trim() !== "") out[name] = Number(input.value);
        } else out[name] = input.value;
      }
      return { options: out, issues: local };
    },
    showErrors(issues) {
      for (const { field, message } of issues) {
        const slot = document.getElementById(`err-${field}`) ?? document.getElementById("err-form");
        slot.textContent = slot.textContent ? `${slot.textContent}\n${message}` : message;
        inputs.get(field)?.setAttribute("aria-invalid", "true");
      }
      const first = issues.map((i) => inputs.get(i.field)).find(Boolean);
      if (first?.closest("details")) first.closest("details").open = true;
    },
    clearErrors() {
      for (const e of document.querySelectorAll(".error")) e.textContent = "";
      for (const i of inputs.values()) i.removeAttribute("aria-invalid");
    },
  };
}
