/** Resolves a relative `x.cjs` import to its `x.cts` source when no compiled file exists (see jest.config.js). */
module.exports = (request, options) => {
	try {
		return options.defaultResolver(request, options);
	} catch (error) {
		if (!request.startsWith('.') || !request.endsWith('.cjs')) throw error;
		return options.defaultResolver(`${request.slice(0, -'.cjs'.length)}.cts`, options);
	}
};
