package ginauth

import "html/template"

// svgOpen starts every mark: decorative (the button's text names the
// provider), never focusable, sized by the stylesheet.
const svgOpen = `<svg class="mark" viewBox="0 0 24 24" aria-hidden="true" focusable="false">`

// providerMarks are small inline SVG marks of the well-known providers, by
// provider name, drawn for these pages. Fixed strings: nothing from a
// provider or a request is ever put in them.
var providerMarks = map[string]template.HTML{
	"google": svgOpen + `<g fill="none" stroke-width="4">` +
		`<path stroke="#ea4335" d="M17.66 6.34A8 8 0 0 0 6.34 6.34"/>` +
		`<path stroke="#fbbc05" d="M6.34 6.34A8 8 0 0 0 5.07 16"/>` +
		`<path stroke="#34a853" d="M5.07 16A8 8 0 0 0 17.66 17.66"/>` +
		`<path stroke="#4285f4" d="M17.66 17.66A8 8 0 0 0 20 12H12"/></g></svg>`,
	"microsoft": svgOpen +
		`<rect x="2" y="2" width="9.5" height="9.5" fill="#f25022"/><rect x="12.5" y="2" width="9.5" height="9.5" fill="#7fba00"/>` +
		`<rect x="2" y="12.5" width="9.5" height="9.5" fill="#00a4ef"/><rect x="12.5" y="12.5" width="9.5" height="9.5" fill="#ffb900"/></svg>`,
	"github":  svgOpen + `<path fill="currentColor" fill-rule="evenodd" d="M12 1a11 11 0 1 0 0 22a11 11 0 1 0 0-22ZM7.5 9.8L7.9 5.9L10.3 7.5Q12 7.1 13.7 7.5L16.1 5.9L16.5 9.8Q17.6 15.5 14 16.4L14.4 22.8Q12 23.3 9.6 22.8L10 16.4Q6.4 15.5 7.5 9.8Z"/></svg>`,
	"apple":   svgOpen + `<path fill="currentColor" d="M12 8.2C10.6 7.2 8.9 6.9 7.4 7.6C4.6 8.9 4.3 13 5.6 16.4C6.6 19.1 8.4 21.6 10.1 21.4C11 21.3 11.3 20.9 12 20.9C12.7 20.9 13 21.3 13.9 21.4C15.6 21.6 17.4 19.1 18.4 16.4L18.6 15.8C16.9 15 16.2 13.6 16.3 12C16.4 10.7 17 9.8 17.8 9.2C16.8 7.5 14.2 7.1 12 8.2ZM12.2 6.6C12.1 4.6 13.6 2.9 15.6 2.6C15.7 4.6 14.2 6.3 12.2 6.6Z"/></svg>`,
	"gitlab":  svgOpen + `<path fill="#e24329" d="M12 21.5L2.5 14.6L4.6 3.2L7.6 10.3H16.4L19.4 3.2L21.5 14.6Z"/><path fill="#fc6d26" d="M12 21.5L7.6 10.3H16.4Z"/></svg>`,
	"discord": svgOpen + `<path fill="#5865f2" fill-rule="evenodd" d="M6 5.5C7.7 4.7 9.3 4.3 10.2 4.2L10.7 5.2C11.6 5.1 12.4 5.1 13.3 5.2L13.8 4.2C14.7 4.3 16.3 4.7 18 5.5C20.4 9 21.2 12.5 20.9 16.9C19.2 18.1 17.6 18.9 16 19.4L15 17.8C15.8 17.5 16.5 17.1 17.1 16.7L16.7 16.4C13.6 17.9 10.4 17.9 7.3 16.4L6.9 16.7C7.5 17.1 8.2 17.5 9 17.8L8 19.4C6.4 18.9 4.8 18.1 3.1 16.9C2.8 12.5 3.6 9 6 5.5ZM9 10.8a1.6 1.8 0 1 0 0 3.6a1.6 1.8 0 1 0 0-3.6ZM15 10.8a1.6 1.8 0 1 0 0 3.6a1.6 1.8 0 1 0 0-3.6Z"/></svg>`,
}

// keyMark is the mark of any other provider.
const keyMark template.HTML = svgOpen + `<g fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round"><circle cx="7.5" cy="12" r="4"/><path d="M11.5 12H21M18 12v3.5M21 12v2.5"/></g></svg>`

// lockMark stands before the app name.
const lockMark template.HTML = svgOpen + `<rect x="5" y="10.5" width="14" height="10.5" rx="2" fill="currentColor"/><path d="M8 10.5V7.5a4 4 0 0 1 8 0v3" fill="none" stroke="currentColor" stroke-width="2"/></svg>`

// ProviderMark returns the small inline SVG mark that the built-in sign-in
// page shows on the button of the provider named name: the marks of
// google, github, microsoft, apple, gitlab and discord, and a generic key
// for any other name. The SVG is decorative (aria-hidden) and holds no
// value from name, so it is safe to put in a page as is.
func ProviderMark(name string) template.HTML {
	if m, ok := providerMarks[name]; ok {
		return m
	}
	return keyMark
}
