// Destructive admin actions ask first. Without this script the server asks instead,
// on a page of its own (the POST lacks confirmed=yes), so nothing acts unasked.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.dataset.confirm) return;
  if (!window.confirm(form.dataset.confirm)) {
    event.preventDefault();
    return;
  }
  const field = form.querySelector('input[name="confirmed"]');
  if (field) field.value = "yes";
});
