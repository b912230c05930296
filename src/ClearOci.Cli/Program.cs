using ClearOci.Cli;
using ClearOci.Client;

return await App.MainAsync(args);
