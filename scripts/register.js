// This repo's require hook is the one the package ships (register.js at the package root).

require('../register.js');
