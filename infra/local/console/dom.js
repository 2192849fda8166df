// Elements are built through the DOM, never from HTML strings: what the API sends is shown as
// text, and the Content-Security-Policy forbids inline styles and scripts anyway.

export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (name === "className") element.className = value;
    else if (name === "dataset") Object.assign(element.dataset, value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  element.append(...children.flat().filter((child) => child !== null && child !== undefined && child !== false));
  return element;
}

export const byId = (id) => document.getElementById(id);

/** Shows an error's readable message in a section's alert paragraph; `null` clears it. */
export function showProblem(element, error) {
  element.hidden = error === null;
  element.textContent = error === null ? "" : error.message;
}

/** Runs an action for a control, shows its error where it belongs, and ignores the control while
 * its request is on its way. The control stays enabled: disabling it would drop keyboard focus. */
export async function act(control, problemElement, action) {
  if (control.getAttribute("aria-busy") === "true") return undefined;
  showProblem(problemElement, null);
  control.setAttribute("aria-busy", "true");
  try {
    return await action();
  } catch (error) {
    showProblem(problemElement, error);
    return undefined;
  } finally {
    control.removeAttribute("aria-busy");
  }
}

const FOCUSABLE = "a[href], button, input, select, textarea, [tabindex]:not([tabindex='-1'])";

/** A modal <dialog> makes the page behind it inert, but Tab still leaves the last control for the
 * browser's own toolbar: wrap Tab and Shift+Tab around inside the dialog instead. */
export function keepFocusInside(dialog) {
  dialog.addEventListener("keydown", (event) => {
    if (event.key !== "Tab") return;
    const focusable = [...dialog.querySelectorAll(FOCUSABLE)].filter(
      (element) => !element.disabled && element.checkVisibility(),
    );
    if (focusable.length === 0) return;
    const [first, last] = [focusable[0], focusable[focusable.length - 1]];
    if (event.shiftKey && document.activeElement === first) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault();
      first.focus();
    }
  });
}
