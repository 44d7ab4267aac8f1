Console.WriteLine("sair: the command line is built by the client issue.");
